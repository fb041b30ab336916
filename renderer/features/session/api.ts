// The session as the main process reports it, and the actions that change it.
import { queryOptions, useMutation, useQueryClient } from '@tanstack/react-query';
import type { ChannelInput, SessionState } from '../../../shared/ipc';
import { call } from '../../bridge/client';
import { queryRoots } from '../../bridge/queryKeys';

export const sessionQueries = {
  all: queryRoots.session,
  current: () =>
    queryOptions({
      queryKey: sessionQueries.all,
      queryFn: () => call('session:get', {}),
      staleTime: Infinity,
    }),
};

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
