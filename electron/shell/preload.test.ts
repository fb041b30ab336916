// The preload against stand-ins for Electron's contextBridge and ipcRenderer
// (there is no Electron binary here): it must expose exactly { invoke, on },
// refuse names outside the contract, and never hand the renderer an IPC event.
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { CHANNEL_NAMES, EVENT_NAMES } from '../../shared/ipc';

const exposed: Record<string, unknown> = {};
const invoked: [string, unknown][] = [];
const listeners = new Map<string, ((event: unknown, payload: unknown) => void)[]>();

vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: (key: string, api: unknown) => (exposed[key] = api) },
  ipcRenderer: {
    invoke: async (channel: string, input: unknown) => (invoked.push([channel, input]), { ok: true, data: null }),
    on: (event: string, fn: (event: unknown, payload: unknown) => void) => listeners.set(event, [...(listeners.get(event) ?? []), fn]),
    removeListener: (event: string, fn: unknown) => listeners.set(event, (listeners.get(event) ?? []).filter((f) => f !== fn)),
  },
}));

type Bridge = {
  invoke: (c: string, i: unknown) => Promise<unknown>;
  on: (e: string, l: (p: unknown) => void) => () => void;
};
let cims: Bridge;
beforeAll(async () => {
  await import('./preload');
  cims = exposed.cims as Bridge;
});

describe('preload bridge', () => {
  it('exposes only window.cims with invoke and on', () => {
    expect(Object.keys(exposed)).toEqual(['cims']);
    expect(Object.keys(cims).sort()).toEqual(['invoke', 'on']);
  });

  it('forwards the contract channels and refuses everything else', async () => {
    for (const channel of CHANNEL_NAMES) await cims.invoke(channel, {});
    expect(invoked.map(([c]) => c)).toEqual(CHANNEL_NAMES);
    for (const bad of ['shell:openExternal', 'ELECTRON_BROWSER_REQUIRE', '__proto__', 'toString']) {
      await expect(cims.invoke(bad, {})).rejects.toThrow('Unknown channel');
    }
    expect(invoked).toHaveLength(CHANNEL_NAMES.length);
  });

  it('delivers only the payload of allow-listed events, and unsubscribes', () => {
    const got: unknown[] = [];
    const off = cims.on(EVENT_NAMES[0]!, (p) => got.push(p));
    for (const fn of listeners.get(EVENT_NAMES[0]!) ?? []) fn({ sender: 'ipc event with sender' }, { status: 'signedOut' });
    expect(got).toEqual([{ status: 'signedOut' }]);
    off();
    expect(listeners.get(EVENT_NAMES[0]!)).toEqual([]);
    expect(() => cims.on('ipc-internal', () => {})).toThrow('Unknown event');
  });
});
