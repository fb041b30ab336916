// Live changes in the renderer: the core's change stream arrives as live:*
// bridge events. Each change invalidates exactly what it touches (that record,
// its history and who-viewed, the lists, the portfolio counts, the audit views,
// the approvals when a change request moved), and someone else's change is kept
// here for a short while so an open record can say "Updated by … just now" and
// an open edit form can warn before its save.
import { useQueryClient, type QueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useState, useSyncExternalStore } from 'react';
import type { EventPayload } from '../../../../shared/ipc';
import type { LiveChange } from '../../../../shared/live';
import { queryRoots } from '../../../bridge/queryKeys';
import { useBridgeEvent } from '../../../bridge/useBridgeEvent';
import { fieldLabel } from '../../../ui/fields';
import { customerQueries } from './queries';

export type LiveState = EventPayload<'live:status'>['state'];

/** Someone's change of a customer, as the console heard it. */
export interface RecentChange {
  change: LiveChange;
  /** When it arrived here (ms). */
  at: number;
  /** Made by the signed-in person (in another console). */
  mine: boolean;
}

const recent = new Map<string, RecentChange>();
const listeners = new Set<() => void>();
const notify = () => listeners.forEach((l) => l());

/** Remembers someone's change of a customer (the newest per customer). */
export function noteChange(change: LiveChange, me: string, at = Date.now()): void {
  recent.set(change.entity, { change, at, mine: change.actorSub === me });
  notify();
}

/** Forgets every change heard (sign-out, tests). */
export function clearRecentChanges(): void {
  recent.clear();
  notify();
}

/** The newest change of this customer heard while the console was open, or null. */
export function useRecentChange(orgId: string | null): RecentChange | null {
  const get = useCallback(() => (orgId ? (recent.get(orgId) ?? null) : null), [orgId]);
  return useSyncExternalStore((l) => {
    listeners.add(l);
    return () => listeners.delete(l);
  }, get);
}

/** "Contact phone", "Contact phone and Contact email", "Contact phone, Currency and Renewal date". */
export function fieldsText(fields: readonly string[]): string {
  const names = fields.map(fieldLabel);
  if (names.length <= 1) return names[0] ?? 'the record';
  return `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

/** Who made a change, as a sentence starts: "Carol Diaz", or "You (in another window)". */
export const whoChanged = (r: RecentChange): string => (r.mine ? 'You (in another window)' : r.change.actorName || r.change.actorSub);

const APPROVAL_ACTIONS = /^change\.|^customer\.(archive|unarchive)$/;

/** How long the views every change touches (lists, portfolio, audit, approvals) wait for more changes before one refetch. */
export const BROAD_REFETCH_DELAY_MS = 250;

// A bulk move announces one change per customer: without this, a console that
// watches hundreds of them would refetch its lists hundreds of times and run
// into the API's rate limit. One record's own queries still refetch at once.
const pendingBroad = new WeakMap<QueryClient, Map<string, readonly unknown[]>>();

function invalidateSoon(qc: QueryClient, queryKey: readonly unknown[]): void {
  let keys = pendingBroad.get(qc);
  if (!keys) {
    const waiting = new Map<string, readonly unknown[]>();
    setTimeout(() => {
      pendingBroad.delete(qc);
      for (const key of waiting.values()) void qc.invalidateQueries({ queryKey: key });
    }, BROAD_REFETCH_DELAY_MS);
    pendingBroad.set(qc, (keys = waiting));
  }
  keys.set(JSON.stringify(queryKey), queryKey);
}

/** Invalidates what one change touches; returns whether it is news to this console. */
export function applyChange(qc: QueryClient, change: LiveChange): boolean {
  if (change.type !== 'customer') {
    // Not a customer record (e.g. a batch of predictions): the lists show their churn risk.
    invalidateSoon(qc, customerQueries.lists());
    return false;
  }
  const orgId = change.entity;
  const cached = qc.getQueryData(customerQueries.detail(orgId).queryKey);
  // This console's own save already put the new version in the cache (and refetched the rest).
  const known = change.version !== null && cached !== undefined && cached.customer.version >= change.version;
  if (!known) {
    void qc.invalidateQueries({ queryKey: customerQueries.detail(orgId).queryKey, exact: true });
    void qc.invalidateQueries({ queryKey: [...customerQueries.details(), orgId, 'audit'] });
    void qc.invalidateQueries({ queryKey: [...customerQueries.details(), orgId, 'access'] });
    invalidateSoon(qc, customerQueries.lists());
    invalidateSoon(qc, customerQueries.portfolioSummary().queryKey);
    invalidateSoon(qc, queryRoots.audit);
  }
  if (change.changeRequest !== null || APPROVAL_ACTIONS.test(change.action)) invalidateSoon(qc, queryRoots.approvals);
  return !known;
}

/** Follows the change stream for the signed-in person; returns its state for the quiet "paused" note. */
export function useLiveUpdates(me: string): LiveState {
  const qc = useQueryClient();
  const [state, setState] = useState<LiveState>('off');
  // What was heard belongs to this sign-in.
  useEffect(() => clearRecentChanges, [me]);
  useBridgeEvent('live:change', (change) => {
    const news = applyChange(qc, change);
    // A save of this console's own may be heard before its answer arrives: not "another window".
    const ownSaveInFlight = change.actorSub === me && qc.isMutating() > 0;
    if (news && !ownSaveInFlight && change.type === 'customer' && change.version !== null) noteChange(change, me);
  });
  useBridgeEvent('live:reset', () => {
    // Changes may have been missed: refetch what is shown.
    void qc.invalidateQueries({ queryKey: queryRoots.customers });
    void qc.invalidateQueries({ queryKey: queryRoots.audit });
    void qc.invalidateQueries({ queryKey: queryRoots.approvals });
  });
  useBridgeEvent('live:status', ({ state: next }) => setState(next));
  return state;
}
