// Writes. Each invalidates by prefix so every list and detail that could show
// the record refetches; the audit subtree too, since every write leaves an event.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { CustomerCreate } from '../../shared/api';
import type { ChannelInput, CustomerUpdate, SessionState } from '../../shared/ipc';
import { call } from './client';
import { auditQueries, customerQueries, sessionQueries } from './queries';

export function useUpdateCustomer() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (input: CustomerUpdate) => call('customers:update', input),
    onSuccess: (detail) => {
      qc.setQueryData(customerQueries.detail(detail.customer.orgId).queryKey, detail);
      void qc.invalidateQueries({ queryKey: customerQueries.all });
      void qc.invalidateQueries({ queryKey: auditQueries.all });
    },
  });
}

export function useCreateCustomer() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (input: CustomerCreate) => call('customers:create', input),
    onSuccess: (detail) => {
      qc.setQueryData(customerQueries.detail(detail.customer.orgId).queryKey, detail);
      void qc.invalidateQueries({ queryKey: customerQueries.all });
      void qc.invalidateQueries({ queryKey: auditQueries.all });
    },
  });
}

type SessionAction = 'session:signIn' | 'session:cancelSignIn' | 'session:signOut';

/** Sign in / cancel / sign out: each answers with the new SessionState, which becomes the cached session. */
export function useSessionAction(action: SessionAction) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (input: ChannelInput<SessionAction> = {}) => call(action, input),
    onSuccess: (state: SessionState) => {
      qc.setQueryData(sessionQueries.current().queryKey, state);
    },
  });
}

export function useAuditExport() {
  return useMutation({ mutationFn: (input: ChannelInput<'audit:exportCsv'>) => call('audit:exportCsv', input) });
}

export function useAuditVerify() {
  return useMutation({ mutationFn: (input: ChannelInput<'audit:verify'>) => call('audit:verify', input) });
}
