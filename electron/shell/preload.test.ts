// The preload under the stand-in for Electron's contextBridge and ipcRenderer
// (test/electron-stand-in.ts; there is no Electron binary here): it must expose
// exactly { invoke, on }, pass only the contract's channels and events, and
// never hand the renderer an IPC event. main.test.ts drives it against main.ts.
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { CHANNEL_NAMES, EVENT_NAMES } from '../../shared/ipc';
import { ipcMain, ipcRenderer, recorded, resetStandIn } from './test/electron-stand-in';

vi.mock('electron', () => import('./test/electron-stand-in'));

type Bridge = {
  invoke: (c: string, i: unknown) => Promise<unknown>;
  on: (e: string, l: (p: unknown) => void) => () => void;
};
let cims: Bridge;
beforeAll(async () => {
  resetStandIn({ isPackaged: true, paths: {} });
  // Any main process: every channel of the contract answers with its name.
  for (const channel of CHANNEL_NAMES) ipcMain.handle(channel, () => ({ ok: true, data: channel }));
  await import('./preload');
  cims = recorded.exposedInMainWorld.cims as Bridge;
});

describe('preload bridge', () => {
  it('exposes only window.cims with invoke and on', () => {
    expect(Object.keys(recorded.exposedInMainWorld)).toEqual(['cims']);
    expect(Object.keys(cims).sort()).toEqual(['invoke', 'on']);
  });

  it('forwards the contract channels and refuses everything else', async () => {
    for (const channel of CHANNEL_NAMES) expect(await cims.invoke(channel, {})).toEqual({ ok: true, data: channel });
    for (const bad of ['shell:openExternal', 'ELECTRON_BROWSER_REQUIRE', '__proto__', 'toString']) {
      await expect(cims.invoke(bad, {})).rejects.toThrow('Unknown channel');
    }
    expect(ipcRenderer.invoke.mock.calls.map(([c]) => c)).toEqual(CHANNEL_NAMES);
  });

  it('delivers only the payload of allow-listed events, and unsubscribes', () => {
    const got: unknown[] = [];
    const event = EVENT_NAMES[0]!;
    const off = cims.on(event, (p) => got.push(p));
    ipcRenderer.emit(event, { sender: 'ipc event with sender' }, { status: 'signedOut' });
    expect(got).toEqual([{ status: 'signedOut' }]);
    off();
    expect(ipcRenderer.listenerCount(event)).toBe(0);
    expect(() => cims.on('ipc-internal', () => {})).toThrow('Unknown event');
    expect(ipcRenderer.listenerCount('ipc-internal')).toBe(0);
  });
});
