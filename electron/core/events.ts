// The events the core pushes to the renderer, each validated with its schema
// from shared/ipc.ts before it leaves.
import { events, type EventName, type EventPayload } from '../../shared/ipc';

type Listener<E extends EventName> = (payload: EventPayload<E>) => void;

export class EventHub {
  private readonly listeners = new Map<EventName, Set<(payload: unknown) => void>>();

  on<E extends EventName>(event: E, listener: Listener<E>): () => void {
    if (!(event in events)) throw new Error(`unknown event ${String(event)}`);
    const set = this.listeners.get(event) ?? new Set();
    this.listeners.set(event, set);
    const wrapped = listener as (payload: unknown) => void;
    set.add(wrapped);
    return () => set.delete(wrapped);
  }

  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    const parsed = events[event].parse(payload);
    for (const listener of this.listeners.get(event) ?? []) {
      try {
        listener(parsed);
      } catch {
        // A listener's failure is its own; the others still hear the event.
      }
    }
  }
}
