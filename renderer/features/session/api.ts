// The session as the main process reports it, and the actions that change it.
import { queryOptions, useMutation, useQueryClient, type QueryClient } from '@tanstack/react-query';
import type { ChannelInput, SessionState } from '../../../shared/ipc';
import { call } from '../../bridge/client';
import { queryRoots } from '../../bridge/queryKeys';
import { clearToasts } from '../../ui/toast';

export const sessionQueries = {
  all: queryRoots.session,
  current: () =>
    queryOptions({
      queryKey: sessionQueries.all,
      queryFn: () => call('session:get', {}),
      staleTime: Infinity,
    }),
};

/**
 * Whose data each cache holds. Remembered apart from the session state because
 * unlocking passes through states that name nobody (signing in again).
 */
const cacheOwners = new WeakMap<QueryClient, string | null>();

/**
 * Makes a new session state the cached one. When the person behind the console
 * changes (a sign-out, or someone else signing in or unlocking a console another
 * person locked), everything cached for the previous one goes first, before
 * anything renders for the next. A lock keeps it all: the same person unlocking
 * finds their screen and unsaved edit as they left them.
 */
export function storeSession(qc: QueryClient, next: SessionState): void {
  const cached = qc.getQueryData<SessionState>(sessionQueries.all);
  const owner = cacheOwners.get(qc) ?? cached?.user?.sub ?? null;
  const nextOwner = next.status === 'signedOut' ? null : (next.user?.sub ?? owner);
  if (owner !== null && nextOwner !== owner) {
    qc.removeQueries({ predicate: (q) => q.queryKey[0] !== queryRoots.session[0] });
    qc.getMutationCache().clear();
    clearToasts();
  }
  cacheOwners.set(qc, nextOwner);
  qc.setQueryData(sessionQueries.all, next);
}

type SessionAction = 'session:signIn' | 'session:cancelSignIn' | 'session:signOut';

/** Sign in / cancel / sign out: each answers with the new SessionState, which becomes the cached session. */
export function useSessionAction(action: SessionAction) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (input: ChannelInput<SessionAction> = {}) => call(action, input),
    onSuccess: (state: SessionState) => storeSession(qc, state),
  });
}
