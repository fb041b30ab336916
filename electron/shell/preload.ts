// The bridge: `window.cims` with invoke(channel, input) for the allow-listed
// channels and on(event, listener) for the allow-listed events. Nothing else:
// no ipcRenderer, no event objects, no business logic.
import { contextBridge, ipcRenderer } from 'electron';
import { CHANNEL_NAMES, EVENT_NAMES, type CimsBridge } from '../../shared/ipc';

const channels = new Set<string>(CHANNEL_NAMES);
const eventNames = new Set<string>(EVENT_NAMES);

const bridge: CimsBridge = {
  invoke(channel, input) {
    if (!channels.has(channel)) return Promise.reject(new Error('Unknown channel'));
    return ipcRenderer.invoke(channel, input);
  },
  on(event, listener) {
    if (!eventNames.has(event)) throw new Error('Unknown event');
    const wrapped = (_event: unknown, payload: unknown) => listener(payload as Parameters<typeof listener>[0]);
    ipcRenderer.on(event, wrapped);
    return () => {
      ipcRenderer.removeListener(event, wrapped);
    };
  },
};

contextBridge.exposeInMainWorld('cims', bridge);
