// The edge of the renderer in component tests. In jsdom there is no main process
// and no preload, so `window.cims` is this stand-in: it records what the renderer
// sent and answers with data parsed by the shared channel schemas (the same
// contract the real main process is held to). It replaces nothing of ours.
import { act } from '@testing-library/react';
import { channels, IpcError, type Channel, type ChannelInput, type EventName, type EventPayload } from '../../shared/ipc';
import { detail, usage } from '../dev/demo';

export class StandInFailure {
  constructor(readonly error: IpcError) {}
}
/** Makes a handler answer with an IpcError, as the main process would. */
export const fail = (code: IpcError['code'], message: string, extra: Partial<IpcError> = {}) =>
  new StandInFailure(IpcError.parse({ code, message, ...extra }));

/** The answers a record screen needs for one demo customer: the record, 90 days of usage, an empty history. */
export const recordAnswers = (orgId: string) =>
  ({
    'customers:get': () => detail(orgId),
    'customers:usage': () => usage(90),
    'customers:audit': () => ({ items: [], nextCursor: null }),
  }) as const;

type Handlers = { [C in Channel]?: (input: ChannelInput<C>, call: number) => unknown };

export function installBridge(handlers: Handlers) {
  const calls: { channel: Channel; input: unknown }[] = [];
  const listeners = new Map<EventName, Set<(p: unknown) => void>>();
  window.cims = {
    async invoke(channel, input) {
      calls.push({ channel, input });
      const handler = handlers[channel] as ((i: unknown, n: number) => unknown) | undefined;
      if (!handler) return { ok: false, error: { code: 'internal', message: `no stand-in answer for ${channel}` } };
      const out = await handler(input, calls.filter((c) => c.channel === channel).length);
      if (out instanceof StandInFailure) return { ok: false, error: out.error };
      return { ok: true, data: channels[channel].output.parse(out) } as never;
    },
    on(event, listener) {
      const set = listeners.get(event) ?? new Set();
      set.add(listener as (p: unknown) => void);
      listeners.set(event, set);
      return () => set.delete(listener as (p: unknown) => void);
    },
  };
  return {
    calls,
    inputsOf: <C extends Channel>(channel: C) => calls.filter((c) => c.channel === channel).map((c) => c.input as ChannelInput<C>),
    emit: <E extends EventName>(event: E, payload: EventPayload<E>) =>
      act(() => listeners.get(event)?.forEach((l) => l(payload))),
  };
}
