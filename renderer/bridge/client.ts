// The only code in the renderer that touches window.cims (the preload's bridge).
// Every answer is checked against the shared channel table before anyone sees it.
import {
  channels,
  events,
  type CimsBridge,
  type Channel,
  type ChannelInput,
  type ChannelOutput,
  type EventName,
  type EventPayload,
} from '../../shared/ipc';
import { BridgeError } from './errors';

declare global {
  interface Window {
    cims?: CimsBridge;
  }
}

function bridge(): CimsBridge {
  const b = window.cims;
  if (!b) {
    throw new BridgeError({ code: 'internal', message: 'The console was opened without its bridge to the app. Restart CIMS Console.' });
  }
  return b;
}

/** Calls a channel; resolves with its validated output or throws a BridgeError. */
export async function call<C extends Channel>(channel: C, input: ChannelInput<C>): Promise<ChannelOutput<C>> {
  let result;
  try {
    result = await bridge().invoke(channel, input);
  } catch (e) {
    if (e instanceof BridgeError) throw e;
    throw new BridgeError({ code: 'internal', message: 'The app did not answer. Try again.' });
  }
  if (!result.ok) throw new BridgeError(result.error);
  const parsed = channels[channel].output.safeParse(result.data);
  if (!parsed.success) {
    throw new BridgeError({ code: 'internal', message: 'The console received data it did not expect. Try again or report it.' });
  }
  return parsed.data as ChannelOutput<C>;
}

/** Subscribes to an event from the main process; payloads that do not match the contract are dropped. */
export function subscribe<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
  const b = window.cims;
  if (!b) return () => {};
  return b.on(event, (payload) => {
    const parsed = events[event].safeParse(payload);
    if (parsed.success) listener(parsed.data as EventPayload<E>);
  });
}
