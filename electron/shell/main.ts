// The Electron main process: as thin as possible. Everything that decides
// something lives in electron/core (sign-in, tokens, API, handlers) or in
// ./security (pure functions); this file only wires them to Electron.
// Importing it does nothing: entry.ts (the built dist/electron/main.js) calls
// startShell with the built paths, and main.test.ts calls it under a stand-in.
import { app, BrowserWindow, dialog, ipcMain, net, powerMonitor, protocol, session, shell, type WebContents } from 'electron';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CHANNEL_NAMES, EVENT_NAMES } from '../../shared/ipc';
import { loadConfig } from '../core/config';
import type { SecretStore } from '../core/deps';
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

export interface ShellOptions {
  /** The sandboxed preload bundle (dist/electron/preload.cjs). */
  preload: string;
  /** The built renderer (dist/renderer), served as app://console. */
  rendererRoot: string;
  /** Tests only: the policy file instead of the per-OS path. */
  policyPath?: string;
  /** Tests only: a keychain instead of the OS one. */
  secrets?: SecretStore;
}

/** Everything the process does, in Electron's order: before ready, the scheme and the single-instance lock; then main(). */
export function startShell(options: ShellOptions): Promise<void> {
  // Development builds only: end-to-end runs start several consoles side by side,
  // each with its own profile (the single-instance lock is per profile) and keychain entry.
  const devOverride = (name: string): string | undefined => (app.isPackaged ? undefined : process.env[name] || undefined);
  const keychainService = devOverride('CIMS_KEYCHAIN_SERVICE') ?? 'CIMS Console';
  const userDataDir = devOverride('CIMS_USER_DATA_DIR');
  if (userDataDir) app.setPath('userData', userDataDir);

  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true } }]);

  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return Promise.resolve();
  }
  return main(options, options.secrets ?? keytarSecretStore(keychainService));
}

async function main(options: ShellOptions, secrets: SecretStore): Promise<void> {
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
    config = await loadConfig({ packaged: app.isPackaged, policyPath: options.policyPath });
  } catch (error) {
    // A bad policy stops the app with a clear message, never a silent default.
    dialog.showErrorBox('CIMS Console cannot start', (error as Error).message);
    app.exit(1);
    return;
  }
  const { policy } = config;
  log.write('info', 'app.start', { version: app.getVersion(), packaged: app.isPackaged, config: config.source.kind });

  hardenSessions(policy.allowedExternalHosts);
  protocol.handle(APP_SCHEME, (request) => serveRenderer(request, options.rendererRoot));

  const core: CimsCore = createHandlers({
    policy,
    appVersion: app.getVersion(),
    fetch: (input, init) => net.fetch(input instanceof URL ? input.href : input, init),
    openExternal: openInSystemBrowser,
    secrets,
    chooseSavePath: async ({ title, defaultName, filters }) => {
      const options = { title, defaultPath: join(app.getPath('downloads'), defaultName), filters };
      const result = window ? await dialog.showSaveDialog(window, options) : await dialog.showSaveDialog(options);
      return result.canceled || !result.filePath ? null : result.filePath;
    },
    log,
    onSignedIn: bringToFront,
    userDataDir: app.getPath('userData'),
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
  // The console locks with the workstation (policy lockOnScreenLock): screen lock, sleep, another user taking the seat (macOS fast user switching).
  powerMonitor.on('lock-screen', () => core.hooks.workstationLocked('lock-screen'));
  powerMonitor.on('suspend', () => core.hooks.workstationLocked('suspend'));
  powerMonitor.on('user-did-resign-active', () => core.hooks.workstationLocked('user-switch'));

  window = new BrowserWindow({
    width: 1280,
    height: 820,
    minWidth: 960,
    minHeight: 600,
    show: false,
    title: 'CIMS Console',
    // Written out here so a static scan sees them; the type admits no other values (security.ts).
    webPreferences: {
      preload: options.preload,
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

async function serveRenderer(request: Request, rendererRoot: string): Promise<Response> {
  const decision = resolveAppFile(request.url, rendererRoot);
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
