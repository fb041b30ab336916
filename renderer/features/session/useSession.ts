import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useBridgeEvent } from '../../bridge/useBridgeEvent';
import { sessionQueries, storeSession } from './api';

/** The session as the main process reports it: fetched once, then pushed by `session:changed`. */
export function useSession() {
  const qc = useQueryClient();
  useBridgeEvent('session:changed', (state) => storeSession(qc, state));
  return useQuery(sessionQueries.current());
}
