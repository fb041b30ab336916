// The Electron main process: as thin as possible. Everything that decides
// something lives in electron/core (sign-in, tokens, API, handlers) or in
// ./security (pure functions); this file only wires them to Electron.
import { app, BrowserWindow, dialog, ipcMain, net, powerMonitor, protocol, session, shell, type WebContents } from 'electron';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHANNEL_NAMES, EVENT_NAMES } from '../../shared/ipc';
import { loadConfig } from '../core/config';
import { createHandlers, type CimsCore } from '../core/handlers';
import { createRotatingLog } from '../core/log';
import { keytarSecretStore } from '../core/secret-store';
import {
  APP_ENTRY,
  APP_RESPONSE_HEADERS,
  APP_SCHEME,
  decideWindowOpen,
  devicePermissionHandler,
  isTrustedSender,
  navigationAllowed,
  permissionCheckHandler,
  permissionRequestHandler,
  resolveAppFile,
  systemBrowserUrlAllowed,
  type LockedWebPreferences,
} from './security';

const here = dirname(fileURLToPath(import.meta.url));
const PRELOAD = join(here, 'preload.cjs');
const RENDERER_ROOT = join(here, '..', 'renderer');
// Development builds only: end-to-end runs start several consoles side by side,
// each with its own profile (the single-instance lock is per profile) and keychain entry.
const devOverride = (name: string): string | undefined => (app.isPackaged ? undefined : process.env[name] || undefined);
const KEYCHAIN_SERVICE = devOverride('CIMS_KEYCHAIN_SERVICE') ?? 'CIMS Console';
const userDataDir = devOverride('CIMS_USER_DATA_DIR');
if (userDataDir) app.setPath('userData', userDataDir);

protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true } }]);

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  void main();
}

async function main(): Promise<void> {
  let window: BrowserWindow | null = null;
  const bringToFront = () => {
    if (!window) return;
    if (window.isMinimized()) window.restore();
    window.show();
    window.focus();
    if (process.platform === 'darwin') app.focus({ steal: true });
  };
  app.on('second-instance', bringToFront);

  await app.whenReady();
  const log = createRotatingLog({ dir: app.getPath('logs') });

  let config;
  try {
    config = await loadConfig({ packaged: app.isPackaged });
  } catch (error) {
    // A bad policy stops the app with a clear message, never a silent default.
    dialog.showErrorBox('CIMS Console cannot start', (error as Error).message);
    app.exit(1);
    return;
  }
  const { policy } = config;
  log.write('info', 'app.start', { version: app.getVersion(), packaged: app.isPackaged, config: config.source.kind });

  hardenSessions(policy.allowedExternalHosts);
  protocol.handle(APP_SCHEME, serveRenderer);

  const core: CimsCore = createHandlers({
    policy,
    appVersion: app.getVersion(),
    fetch: (input, init) => net.fetch(input instanceof URL ? input.href : input, init),
    openExternal: openInSystemBrowser,
    secrets: keytarSecretStore(KEYCHAIN_SERVICE),
    chooseSavePath: async ({ title, defaultName, filters }) => {
      const options = { title, defaultPath: join(app.getPath('downloads'), defaultName), filters };
      const result = window ? await dialog.showSaveDialog(window, options) : await dialog.showSaveDialog(options);
      return result.canceled || !result.filePath ? null : result.filePath;
    },
    log,
    onSignedIn: bringToFront,
  });

  for (const channel of CHANNEL_NAMES) {
    ipcMain.handle(channel, (event, input: unknown) => {
      const frame = event.senderFrame;
      if (!isTrustedSender(frame && { url: frame.url, isMainFrame: frame.parent === null })) {
        log.write('warn', 'ipc.sender.refused', { channel });
        return { ok: false, error: { code: 'forbidden', message: 'Refused.' } };
      }
      return core.invokeUnknown(channel, input);
    });
  }
  for (const event of EVENT_NAMES) {
    core.on(event, (payload) => {
      if (window && !window.isDestroyed()) window.webContents.send(event, payload);
    });
  }

  powerMonitor.on('resume', () => void core.hooks.resume());
  powerMonitor.on('unlock-screen', () => void core.hooks.resume());

  window = new BrowserWindow({
    width: 1280,
    height: 820,
    minWidth: 960,
    minHeight: 600,
    show: false,
    title: 'CIMS Console',
    // Written out here so a static scan sees them; the type admits no other values (security.ts).
    webPreferences: {
      preload: PRELOAD,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      disableBlinkFeatures: 'Auxclick',
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      safeDialogs: true,
      devTools: !app.isPackaged,
    } satisfies LockedWebPreferences,
  });
  window.once('ready-to-show', () => window?.show());
  window.on('focus', () => void core.hooks.focus());
  window.on('closed', () => (window = null));
  if (app.isPackaged) window.webContents.on('devtools-opened', () => window?.webContents.closeDevTools());

  await core.start();
  await window.loadURL(APP_ENTRY);

  app.on('window-all-closed', () => {
    core.dispose();
    app.quit();
  });
}

/** The one way out to the system browser (the core's sign-in pages and allow-listed links): https, or http on loopback. */
async function openInSystemBrowser(url: string): Promise<void> {
  if (!systemBrowserUrlAllowed(url)) throw new Error('refused to open a URL that is not https');
  await shell.openExternal(url);
}

async function serveRenderer(request: Request): Promise<Response> {
  const decision = resolveAppFile(request.url, RENDERER_ROOT);
  if (decision.kind !== 'file' || request.method !== 'GET') return new Response('Not found', { status: 404, headers: APP_RESPONSE_HEADERS });
  try {
    const body = await readFile(decision.path);
    return new Response(body, { status: 200, headers: { ...APP_RESPONSE_HEADERS, 'Content-Type': decision.contentType } });
  } catch {
    return new Response('Not found', { status: 404, headers: APP_RESPONSE_HEADERS });
  }
}

function hardenSessions(allowedExternalHosts: readonly string[]): void {
  const ses = session.defaultSession;
  ses.setPermissionRequestHandler(permissionRequestHandler);
  ses.setPermissionCheckHandler(permissionCheckHandler);
  ses.setDevicePermissionHandler(devicePermissionHandler);

  app.on('web-contents-created', (_event, contents: WebContents) => {
    contents.on('will-navigate', (event, url) => {
      if (!navigationAllowed(url)) event.preventDefault();
    });
    contents.on('will-redirect', (event, url) => {
      if (!navigationAllowed(url)) event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      const decision = decideWindowOpen(url, allowedExternalHosts);
      if (decision.openExternally) void openInSystemBrowser(decision.openExternally).catch(() => undefined);
      return { action: decision.action };
    });
  });
}
