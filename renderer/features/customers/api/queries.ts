// One queryOptions factory for customers. Keys go from general to specific
// (customers → list(filters) → detail(id) → usage/audit), so a mutation can
// invalidate a whole subtree by prefix.
import { infiniteQueryOptions, queryOptions } from '@tanstack/react-query';
import type { CustomerListQuery, OrgId } from '../../../../shared/api';
import { call } from '../../../bridge/client';
import { queryRoots } from '../../../bridge/queryKeys';

/** Filters of a customer list, without the cursor (the infinite query owns paging). */
export type CustomerListFilters = Omit<CustomerListQuery, 'cursor'>;

export const customerQueries = {
  all: queryRoots.customers,
  lists: () => [...customerQueries.all, 'list'] as const,
  list: (filters: CustomerListFilters) =>
    infiniteQueryOptions({
      queryKey: [...customerQueries.lists(), filters] as const,
      queryFn: ({ pageParam }) => call('customers:list', { ...filters, ...(pageParam ? { cursor: pageParam } : {}) }),
      initialPageParam: null as string | null,
      getNextPageParam: (last) => last.nextCursor,
      staleTime: 30_000,
    }),
  /** The counts over the CRM's whole portfolio; under the customers root, so any customer write refreshes them. */
  portfolioSummary: () =>
    queryOptions({
      queryKey: [...customerQueries.all, 'portfolio', 'summary'] as const,
      queryFn: () => call('portfolio:summary', {}),
      staleTime: 30_000,
    }),
  details: () => [...customerQueries.all, 'detail'] as const,
  detail: (orgId: OrgId) =>
    queryOptions({
      queryKey: [...customerQueries.details(), orgId] as const,
      queryFn: () => call('customers:get', { orgId }),
      staleTime: 30_000,
    }),
  usage: (orgId: OrgId, days: 90 | 180) =>
    queryOptions({
      queryKey: [...customerQueries.details(), orgId, 'usage', days] as const,
      queryFn: () => call('customers:usage', { orgId, days }),
      staleTime: 5 * 60_000,
    }),
  predictions: (orgId: OrgId) =>
    queryOptions({
      queryKey: [...customerQueries.details(), orgId, 'predictions'] as const,
      queryFn: () => call('customers:predictions', { orgId }),
      staleTime: 5 * 60_000,
    }),
  audit: (orgId: OrgId) =>
    infiniteQueryOptions({
      queryKey: [...customerQueries.details(), orgId, 'audit'] as const,
      queryFn: ({ pageParam }) => call('customers:audit', { orgId, ...(pageParam ? { cursor: pageParam } : {}) }),
      initialPageParam: null as string | null,
      getNextPageParam: (last) => last.nextCursor,
      // The record screen asks for it with the record, a moment before its card
      // mounts: not stale by then. Saves and live changes invalidate it.
      staleTime: 5_000,
    }),
  /** Which fields and actions need a second person (the approval rules); they change rarely. */
  approvalRules: () =>
    queryOptions({
      queryKey: [...queryRoots.approvals, 'rules'] as const,
      queryFn: () => call('approvals:rules', {}),
      staleTime: 10 * 60_000,
    }),
  /** The record's newest change requests, for its banner; under the approvals root, so every step refreshes it. */
  changeRequests: (orgId: OrgId) =>
    queryOptions({
      queryKey: [...queryRoots.approvals, 'record', orgId] as const,
      queryFn: () => call('approvals:list', { orgId, limit: 5 }),
      staleTime: 0,
    }),
  /** Who viewed the record (support leads); never cached as fresh: each open of the record adds to it. */
  access: (orgId: OrgId) =>
    infiniteQueryOptions({
      queryKey: [...customerQueries.details(), orgId, 'access'] as const,
      queryFn: ({ pageParam }) => call('customers:access', { orgId, ...(pageParam ? { cursor: pageParam } : {}) }),
      initialPageParam: null as string | null,
      getNextPageParam: (last) => last.nextCursor,
    }),
};
