// The admin screen's reads and its one write. An assignment changes owners, so
// the staff counts and every customer list or record refetch (by prefix), and
// the audit views too: each customer moved has a new event.
import { queryOptions, useMutation, useQueryClient } from '@tanstack/react-query';
import type { AssignmentRequest } from '../../../shared/api';
import { call } from '../../bridge/client';
import { queryRoots } from '../../bridge/queryKeys';

export const staffQueries = {
  all: queryRoots.staff,
  list: () => queryOptions({ queryKey: [...queryRoots.staff, 'list'] as const, queryFn: () => call('staff:list', {}) }),
  /** Customers found by a search, to pick the ones to move (an admin reads every customer). */
  search: (q: string) =>
    queryOptions({
      queryKey: [...queryRoots.customers, 'admin-search', q] as const,
      queryFn: () => call('customers:list', { q, includeArchived: 'true', limit: 50 }),
      enabled: q.trim().length >= 2,
    }),
};

export function useAssignment() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (request: AssignmentRequest) => call('assignments:apply', request),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: queryRoots.staff });
      void qc.invalidateQueries({ queryKey: queryRoots.customers });
      void qc.invalidateQueries({ queryKey: queryRoots.audit });
    },
  });
}
