// Change requests for the Approvals screen: the queue, one request, the record it
// concerns (read again, so the checker sees the customer as it is now), and the
// decisions. Every key is under the approvals root: a decision refreshes the
// queue, the count in the navigation and any record's banner by prefix, and
// invalidates customers and audit too, since an approval changes a record.
import { infiniteQueryOptions, queryOptions, useMutation, useQueryClient } from '@tanstack/react-query';
import type { ChangeRequestStatus, OrgId } from '../../../shared/api';
import { call } from '../../bridge/client';
import { queryRoots } from '../../bridge/queryKeys';

/** The queue's filter: one status, or every request. */
export type QueueFilter = ChangeRequestStatus | 'all';
/** How many pending requests the navigation counts before it says "200+". */
export const COUNT_LIMIT = 200;

export const approvalQueries = {
  all: queryRoots.approvals,
  queue: (filter: QueueFilter) =>
    infiniteQueryOptions({
      queryKey: [...queryRoots.approvals, 'queue', filter] as const,
      queryFn: ({ pageParam }) =>
        call('approvals:list', { ...(filter === 'all' ? {} : { status: filter }), limit: 50, ...(pageParam ? { cursor: pageParam } : {}) }),
      initialPageParam: null as string | null,
      getNextPageParam: (last) => last.nextCursor,
      staleTime: 0,
    }),
  /** Pending requests, for the count in the navigation. */
  pendingCount: () =>
    queryOptions({
      queryKey: [...queryRoots.approvals, 'count'] as const,
      queryFn: async () => {
        const page = await call('approvals:list', { status: 'pending', limit: COUNT_LIMIT });
        return { count: page.items.length, more: page.nextCursor !== null };
      },
      staleTime: 30_000,
      refetchInterval: 60_000,
    }),
  /** The newest requests the signed-in person may see, for the outcomes of their own (MyOutcomes). */
  recent: () =>
    queryOptions({
      queryKey: [...queryRoots.approvals, 'recent'] as const,
      queryFn: () => call('approvals:list', { limit: 50 }),
      staleTime: 0,
    }),
  request: (id: string) =>
    queryOptions({
      queryKey: [...queryRoots.approvals, 'request', id] as const,
      queryFn: () => call('approvals:get', { id }),
      staleTime: 0,
    }),
  /** The customer as it is now, beside the request. */
  record: (orgId: OrgId) =>
    queryOptions({
      queryKey: [...queryRoots.approvals, 'customer', orgId] as const,
      queryFn: () => call('customers:get', { orgId }),
      staleTime: 0,
    }),
};

export type Decision = 'approve' | 'reject';

export function useDecision() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ decision, id, version, reason }: { decision: Decision; id: string; version: number; reason: string }) =>
      call(decision === 'approve' ? 'approvals:approve' : 'approvals:reject', { id, version, reason }),
    onSettled: () => {
      void qc.invalidateQueries({ queryKey: queryRoots.approvals });
      void qc.invalidateQueries({ queryKey: queryRoots.customers });
      void qc.invalidateQueries({ queryKey: queryRoots.audit });
    },
  });
}
