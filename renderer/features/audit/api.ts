// The audit review's reads and actions.
import { infiniteQueryOptions, useMutation } from '@tanstack/react-query';
import type { AccessQuery, AuditQuery } from '../../../shared/api';
import type { ChannelInput } from '../../../shared/ipc';
import { call } from '../../bridge/client';
import { queryRoots } from '../../bridge/queryKeys';

/** Filters of the audit review, without paging. */
export type AuditFilters = Omit<AuditQuery, 'cursor' | 'limit'>;
/** Filters of the access review, without paging. */
export type AccessFilters = Omit<AccessQuery, 'cursor' | 'limit'>;

export const auditQueries = {
  all: queryRoots.audit,
  events: (filters: AuditFilters, limit = 100) =>
    infiniteQueryOptions({
      queryKey: [...auditQueries.all, 'events', filters, limit] as const,
      queryFn: ({ pageParam }) => call('audit:events', { ...filters, limit, ...(pageParam ? { cursor: pageParam } : {}) }),
      initialPageParam: null as string | null,
      getNextPageParam: (last) => last.nextCursor,
    }),
  access: (filters: AccessFilters, limit = 100) =>
    infiniteQueryOptions({
      queryKey: [...auditQueries.all, 'access', filters, limit] as const,
      queryFn: ({ pageParam }) => call('audit:access', { ...filters, limit, ...(pageParam ? { cursor: pageParam } : {}) }),
      initialPageParam: null as string | null,
      getNextPageParam: (last) => last.nextCursor,
    }),
};

export function useAuditExport() {
  return useMutation({ mutationFn: (input: ChannelInput<'audit:exportCsv'>) => call('audit:exportCsv', input) });
}

export function useAccessExport() {
  return useMutation({ mutationFn: (input: ChannelInput<'audit:exportAccessCsv'>) => call('audit:exportAccessCsv', input) });
}

/** The evidence bundle for auditors, saved to a file the user picks (progress as audit:exportProgress). */
export function useEvidenceExport() {
  return useMutation({ mutationFn: (input: ChannelInput<'audit:exportEvidence'>) => call('audit:exportEvidence', input) });
}

export function useAuditVerify() {
  return useMutation({ mutationFn: (input: ChannelInput<'audit:verify'>) => call('audit:verify', input) });
}
