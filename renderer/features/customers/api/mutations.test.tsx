// What a save refreshes: everything that could show or count the record, except
// the record itself (its answer is the new state) and its usage and predictions.
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { act, renderHook, waitFor } from '@testing-library/react';
import type { ReactNode } from 'react';
import { describe, expect, it } from 'vitest';
import { changeRequest, detail, usage } from '../../../dev/demo';
import { queryRoots } from '../../../bridge/queryKeys';
import { installBridge } from '../../../test/standInBridge';
import { useUpdateCustomer } from './mutations';
import { customerQueries } from './queries';

const ORG = 'ORG-000001';
const OTHER = 'ORG-000002';

function seeded() {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false, staleTime: Infinity }, mutations: { retry: false } } });
  const keys = {
    record: customerQueries.detail(ORG).queryKey,
    usage: customerQueries.usage(ORG, 90).queryKey,
    predictions: customerQueries.predictions(ORG).queryKey,
    history: customerQueries.audit(ORG).queryKey,
    list: customerQueries.list({ sort: 'name', limit: 100 }).queryKey,
    summary: customerQueries.portfolioSummary().queryKey,
    other: customerQueries.detail(OTHER).queryKey,
    audit: [...queryRoots.audit, 'events'],
    approvals: customerQueries.changeRequests(ORG).queryKey,
  } as const;
  for (const key of Object.values(keys)) qc.setQueryData(key, key === keys.usage ? usage(90) : key === keys.other ? detail(OTHER) : detail(ORG));
  const wrapper = ({ children }: { children: ReactNode }) => <QueryClientProvider client={qc}>{children}</QueryClientProvider>;
  return { qc, keys, wrapper };
}

describe('after a save', () => {
  it('keeps the answer as the record and refreshes its history, the lists, the counts and the audit views, not its usage or predictions', async () => {
    installBridge({ 'customers:update': () => detail(ORG, { version: 4, contactName: 'Barbara Liskov' }) });
    const { qc, keys, wrapper } = seeded();
    const { result } = renderHook(() => useUpdateCustomer(), { wrapper });
    await act(() => result.current.mutateAsync({ orgId: ORG, version: 3, changes: { contactName: 'Barbara Liskov' }, reason: 'New main contact' }));
    await waitFor(() => expect(result.current.isSuccess).toBe(true));

    const invalidated = (key: readonly unknown[]) => qc.getQueryState(key)?.isInvalidated;
    expect(qc.getQueryData(keys.record)).toMatchObject({ customer: { version: 4, contactName: 'Barbara Liskov' } });
    expect(invalidated(keys.record)).toBe(false);
    expect(invalidated(keys.usage)).toBe(false);
    expect(invalidated(keys.predictions)).toBe(false);
    for (const key of [keys.history, keys.list, keys.summary, keys.other, keys.audit, keys.approvals]) expect(invalidated(key), JSON.stringify(key)).toBe(true);
  });

  it('refreshes the record too when the change waits for approval (the answer is the request, not the record)', async () => {
    installBridge({
      'customers:update': () => ({ changeRequest: changeRequest(0, { orgId: ORG }) }),
    });
    const { qc, keys, wrapper } = seeded();
    const { result } = renderHook(() => useUpdateCustomer(), { wrapper });
    await act(() => result.current.mutateAsync({ orgId: ORG, version: 3, changes: { userCount: 400 }, reason: 'Growth' }));
    expect(qc.getQueryState(keys.record)?.isInvalidated).toBe(true);
    expect(qc.getQueryState(keys.approvals)?.isInvalidated).toBe(true);
  });
});
