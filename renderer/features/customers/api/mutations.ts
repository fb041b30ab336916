// Writes to a customer record. Create and update answer alike (the record as it
// now is), so they share one shape: the answer becomes the cached detail, and
// every list and detail that could show the record refetches by prefix, the
// audit subtree too, since every write leaves an event (not the record itself,
// nor its usage and predictions: see unchangedByWrite). An edit, archive or
// un-archive that waits for approval answers with its change request instead:
// the record is unchanged, and the change requests refetch.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { CustomerCreate, CustomerDetail, PredictionFeedback } from '../../../../shared/api';
import type { CustomerUpdate, EditOutcome } from '../../../../shared/ipc';
import { call } from '../../../bridge/client';
import { queryRoots } from '../../../bridge/queryKeys';
import { customerQueries } from './queries';

/**
 * What a write's answer leaves as it is: the record itself (the answer is its new
 * state) and its usage and predictions (no write changes them). Refetching them
 * put three more reads in line with the record's render right after "Saved".
 */
export function unchangedByWrite(orgId: string, queryKey: readonly unknown[]): boolean {
  const [, kind, id, part] = queryKey;
  return kind === 'detail' && id === orgId && (queryKey.length === 3 || part === 'usage' || part === 'predictions');
}

function useCustomerWrite<Input, Output extends EditOutcome>(write: (input: Input) => Promise<Output>) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: write,
    onSuccess: (outcome) => {
      const written = 'customer' in outcome ? outcome.customer.orgId : null;
      if ('customer' in outcome) qc.setQueryData(customerQueries.detail(outcome.customer.orgId).queryKey, outcome);
      void qc.invalidateQueries({ queryKey: customerQueries.all, predicate: (q) => written === null || !unchangedByWrite(written, q.queryKey) });
      void qc.invalidateQueries({ queryKey: queryRoots.audit });
      void qc.invalidateQueries({ queryKey: queryRoots.approvals });
    },
  });
}

export type StatusChange = { orgId: string; version: number; reason: string };

export const useUpdateCustomer = () => useCustomerWrite((input: CustomerUpdate) => call('customers:update', input));
export const useCreateCustomer = () => useCustomerWrite((input: CustomerCreate): Promise<CustomerDetail> => call('customers:create', input));
export const useArchiveCustomer = () => useCustomerWrite((input: StatusChange) => call('customers:archive', input));
export const useUnarchiveCustomer = () => useCustomerWrite((input: StatusChange) => call('customers:unarchive', input));

/** "Looks wrong" on a prediction: the record is unchanged, its history gains the event. */
export function usePredictionFeedback(orgId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (feedback: PredictionFeedback) => call('customers:predictionFeedback', { orgId, feedback }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: [...customerQueries.details(), orgId, 'audit'] });
      void qc.invalidateQueries({ queryKey: queryRoots.audit });
    },
  });
}
