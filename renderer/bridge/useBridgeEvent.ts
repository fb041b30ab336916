import { useEffect, useRef } from 'react';
import type { EventName, EventPayload } from '../../shared/ipc';
import { subscribe } from './client';

/** Listens to a main-process event for the lifetime of the component. */
export function useBridgeEvent<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): void {
  const latest = useRef(listener);
  useEffect(() => {
    latest.current = listener;
  });
  useEffect(() => subscribe(event, (p) => latest.current(p)), [event]);
}
