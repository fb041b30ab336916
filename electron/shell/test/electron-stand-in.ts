// A stand-in for the `electron` module, for tests only (vi.mock('electron', ...)).
// No Electron binary can be obtained where the tests run, so this is the one
// place Electron itself is simulated. It has only the calls main.ts and
// preload.ts make, and records what they register so a test can call it the way
// Electron would. Everything behind it (policy file, renderer folder, core) is real.
import { EventEmitter } from 'node:events';
import { vi } from 'vitest';

type Handler = (...args: never[]) => unknown;
export interface Frame {
  url: string;
  parent: Frame | null;
}
export interface IpcEvent {
  senderFrame: Frame | null;
}
type IpcHandler = (event: IpcEvent, input: unknown) => unknown;
type WindowOpenHandler = (details: { url: string }) => { action: 'allow' | 'deny' };
type PermissionRequestHandler = (contents: unknown, permission: string, callback: (granted: boolean) => void) => void;
type ProtocolHandler = (request: Request) => Promise<Response>;

/** What main.ts and the preload registered, for the test to call. */
export const recorded = {
  windows: [] as BrowserWindow[],
  ipcHandlers: new Map<string, IpcHandler>(),
  protocolHandlers: new Map<string, ProtocolHandler>(),
  privilegedSchemes: [] as unknown[],
  permissionRequestHandler: null as PermissionRequestHandler | null,
  permissionCheckHandler: null as Handler | null,
  devicePermissionHandler: null as Handler | null,
  exposedInMainWorld: {} as Record<string, unknown>,
};

const state = { paths: {} as Record<string, string>, singleInstance: true };

/** A fresh Electron for each run of main.ts. */
export function resetStandIn(options: { isPackaged: boolean; paths: Record<string, string>; singleInstance?: boolean }): void {
  app.removeAllListeners();
  powerMonitor.removeAllListeners();
  ipcRenderer.removeAllListeners();
  recorded.windows.length = 0;
  recorded.ipcHandlers.clear();
  recorded.protocolHandlers.clear();
  recorded.privilegedSchemes.length = 0;
  recorded.permissionRequestHandler = recorded.permissionCheckHandler = recorded.devicePermissionHandler = null;
  for (const key of Object.keys(recorded.exposedInMainWorld)) delete recorded.exposedInMainWorld[key];
  app.isPackaged = options.isPackaged;
  state.paths = { ...options.paths };
  state.singleInstance = options.singleInstance ?? true;
  vi.clearAllMocks();
}

export const app = Object.assign(new EventEmitter(), {
  isPackaged: false,
  whenReady: () => Promise.resolve(),
  requestSingleInstanceLock: () => state.singleInstance,
  getVersion: () => '0.0.0-stand-in',
  getPath(name: string): string {
    const path = state.paths[name];
    if (!path) throw new Error(`stand-in: no path for ${name}`);
    return path;
  },
  setPath: vi.fn((name: string, path: string) => void (state.paths[name] = path)),
  quit: vi.fn(),
  exit: vi.fn(),
  focus: vi.fn(),
});

class WebContents extends EventEmitter {
  readonly mainFrame: Frame = { url: '', parent: null };
  windowOpenHandler: WindowOpenHandler | null = null;
  setWindowOpenHandler(handler: WindowOpenHandler): void {
    this.windowOpenHandler = handler;
  }
  /** Electron delivers it to the page's ipcRenderer listeners. */
  send = vi.fn((channel: string, payload: unknown) => void ipcRenderer.emit(channel, { sender: 'main' }, payload));
  closeDevTools = vi.fn();
}

export class BrowserWindow extends EventEmitter {
  readonly webContents = new WebContents();
  constructor(readonly options: { webPreferences: Record<string, unknown> }) {
    super();
    recorded.windows.push(this);
    // As in Electron: every new web contents is announced before anyone can load a page in it.
    app.emit('web-contents-created', {}, this.webContents);
  }
  async loadURL(url: string): Promise<void> {
    this.webContents.mainFrame.url = url;
  }
  isMinimized = () => false;
  isDestroyed = () => false;
  restore = vi.fn();
  show = vi.fn();
  focus = vi.fn();
}

export const protocol = {
  registerSchemesAsPrivileged: (schemes: unknown[]) => void recorded.privilegedSchemes.push(...schemes),
  handle: (scheme: string, handler: ProtocolHandler) => void recorded.protocolHandlers.set(scheme, handler),
};

export const session = {
  defaultSession: {
    setPermissionRequestHandler: (h: PermissionRequestHandler) => void (recorded.permissionRequestHandler = h),
    setPermissionCheckHandler: (h: Handler) => void (recorded.permissionCheckHandler = h),
    setDevicePermissionHandler: (h: Handler) => void (recorded.devicePermissionHandler = h),
  },
};

export const ipcMain = {
  handle(channel: string, handler: IpcHandler): void {
    if (recorded.ipcHandlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    recorded.ipcHandlers.set(channel, handler);
  },
};

export const shell = { openExternal: vi.fn(async (_url: string) => undefined) };
export const dialog = {
  showErrorBox: vi.fn((_title: string, _content: string) => undefined),
  showSaveDialog: vi.fn(async () => ({ canceled: true, filePath: '' })),
};
// Nothing here reaches a network; a test that needs one says so.
export const net = { fetch: vi.fn(async () => Promise.reject(new TypeError('stand-in: no network'))) };
export const powerMonitor = new EventEmitter();

// The preload's side. invoke reaches ipcMain as Electron does, from the top frame of the last window.
export const contextBridge = {
  exposeInMainWorld: (key: string, api: unknown) => void (recorded.exposedInMainWorld[key] = api),
};
export const ipcRenderer = Object.assign(new EventEmitter(), {
  invoke: vi.fn(async (channel: string, input: unknown): Promise<unknown> => {
    const handler = recorded.ipcHandlers.get(channel);
    if (!handler) throw new Error(`No handler registered for '${channel}'`);
    return handler({ senderFrame: recorded.windows.at(-1)?.webContents.mainFrame ?? null }, input);
  }),
});
