// main.ts run under a stand-in for Electron (test/electron-stand-in.ts): no
// Electron binary can be obtained where this suite runs, so Electron's own
// calls are simulated, and only those. The policy file, the renderer folder
// served over app://, the core behind IPC and the log are real. Each test calls
// what main.ts registered the way Electron would, and checks what it decided.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { CHANNEL_NAMES, type Channel, type CimsBridge } from '../../shared/ipc';
import type { SecretStore } from '../core/deps';
import { startShell } from './main';
import { ChunkedSecret, refreshTokenAccount } from '../core/secret-store';
import { app, dialog, net, powerMonitor, recorded, resetStandIn, shell, type Frame, type IpcEvent } from './test/electron-stand-in';

vi.mock('electron', () => import('./test/electron-stand-in'));
// Taken before any test runs: what importing main.ts did by itself.
const atImport = { schemes: recorded.privilegedSchemes.length, appEvents: app.eventNames().length, windows: recorded.windows.length };

let dir: string;
let renderer: string;
const policyFile = () => join(dir, 'policy.json');
const INDEX_HTML = '<!doctype html><title>CIMS Console</title><script type="module" src="/assets/app.js"></script>';
const APP_JS = 'console.log("the app");';
const SECRET = 'outside the renderer folder';

const GOOD_POLICY = {
  issuer: 'https://idp.example.test',
  clientId: 'cims-console',
  apiBaseUrl: 'https://api.example.test',
  apiAudience: 'urn:cims:api',
  allowedExternalHosts: ['intranet.example.test'],
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cims-shell-'));
  renderer = join(dir, 'app', 'renderer');
  mkdirSync(join(renderer, 'assets'), { recursive: true });
  writeFileSync(join(renderer, 'index.html'), INDEX_HTML);
  writeFileSync(join(renderer, 'assets', 'app.js'), APP_JS);
  // Files a traversal would reach: next to the renderer folder, and above it.
  writeFileSync(join(dir, 'app', 'secret.js'), SECRET);
  writeFileSync(join(dir, 'secret.js'), SECRET);
  for (const name of ['logs', 'userData', 'downloads']) mkdirSync(join(dir, name));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// The core runs a lock timer: end each run as Electron would when the window closes.
afterEach(() => void app.emit('window-all-closed'));

const emptyKeychain: SecretStore = { get: async () => null, set: async () => undefined, delete: async () => false };

async function start({ packaged = false, policy = JSON.stringify(GOOD_POLICY) as string | null } = {}) {
  resetStandIn({ isPackaged: packaged, paths: { logs: join(dir, 'logs'), userData: join(dir, 'userData'), downloads: join(dir, 'downloads') } });
  rmSync(policyFile(), { force: true });
  if (policy !== null) writeFileSync(policyFile(), policy);
  await startShell({ preload: join(dir, 'app', 'preload.cjs'), rendererRoot: renderer, policyPath: policyFile(), secrets: emptyKeychain });
  return recorded.windows[0];
}

async function startedWindow(options?: Parameters<typeof start>[0]) {
  const window = await start(options);
  if (!window) throw new Error('main.ts opened no window');
  return window;
}

const navigationEvent = () => ({ preventDefault: vi.fn() });

describe('the window', () => {
  it('is not opened by importing main.ts: entry.ts starts the shell, once', () => {
    expect(atImport).toEqual({ schemes: 0, appEvents: 0, windows: 0 });
  });

  it('opens one window on app://console/index.html with the preload, after app:// is registered as a secure standard scheme', async () => {
    const window = await startedWindow();
    expect(recorded.windows).toHaveLength(1);
    expect(recorded.privilegedSchemes).toEqual([{ scheme: 'app', privileges: { standard: true, secure: true } }]);
    expect(window.options.webPreferences).toMatchObject({ preload: join(dir, 'app', 'preload.cjs'), contextIsolation: true, sandbox: true, nodeIntegration: false });
    expect(window.webContents.mainFrame.url).toBe('app://console/index.html');
  });

  it('prevents navigation and redirects to any other origin, and webviews', async () => {
    const { webContents } = await startedWindow();
    for (const url of ['https://evil.example/', 'file:///etc/passwd', 'app://other/index.html', 'http://127.0.0.1:4800/', 'javascript:alert(1)']) {
      for (const name of ['will-navigate', 'will-redirect']) {
        const event = navigationEvent();
        webContents.emit(name, event, url);
        expect(event.preventDefault, `${name} ${url}`).toHaveBeenCalled();
      }
    }
    const inside = navigationEvent();
    webContents.emit('will-navigate', inside, 'app://console/customers/ORG-000001');
    expect(inside.preventDefault).not.toHaveBeenCalled();
    const webview = navigationEvent();
    webContents.emit('will-attach-webview', webview, {}, {});
    expect(webview.preventDefault).toHaveBeenCalled();
  });

  it('denies window.open, and sends only https links to hosts the policy allows to the system browser', async () => {
    const { webContents } = await startedWindow();
    const open = webContents.windowOpenHandler;
    expect(open).not.toBeNull();
    expect(open?.({ url: 'https://intranet.example.test/help' })).toEqual({ action: 'deny' });
    await vi.waitFor(() => expect(shell.openExternal).toHaveBeenCalledWith('https://intranet.example.test/help'));
    for (const url of ['http://intranet.example.test/help', 'https://evil.example/', 'https://user:pw@intranet.example.test/', 'file:///etc/passwd', 'app://console/index.html']) {
      expect(open?.({ url }), url).toEqual({ action: 'deny' });
    }
    await new Promise((r) => setTimeout(r, 10));
    expect(shell.openExternal).toHaveBeenCalledTimes(1);
  });

  it('refuses every permission request and check', async () => {
    await startedWindow();
    const { permissionRequestHandler: request, permissionCheckHandler: check, devicePermissionHandler: device } = recorded;
    for (const permission of ['media', 'notifications', 'clipboard-read', 'geolocation', 'openExternal', 'hid']) {
      const callback = vi.fn();
      request?.({}, permission, callback);
      expect(callback, permission).toHaveBeenCalledWith(false);
    }
    expect(check?.()).toBe(false);
    expect(device?.()).toBe(false);
  });

  it('closes the devtools in packaged builds and leaves them to developers otherwise', async () => {
    const packaged = await startedWindow({ packaged: true });
    expect(packaged.options.webPreferences.devTools).toBe(false);
    packaged.webContents.emit('devtools-opened');
    expect(packaged.webContents.closeDevTools).toHaveBeenCalled();
    app.emit('window-all-closed');

    const development = await startedWindow({ packaged: false });
    expect(development.options.webPreferences.devTools).toBe(true);
    development.webContents.emit('devtools-opened');
    expect(development.webContents.closeDevTools).not.toHaveBeenCalled();
  });
});

describe('app:// responses', () => {
  const HEADERS = {
    'content-security-policy':
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'none'; object-src 'none'; frame-src 'none'; worker-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'cache-control': 'no-cache',
  };
  const serve = async (url: string, init?: RequestInit) => {
    const handler = recorded.protocolHandlers.get('app');
    if (!handler) throw new Error('no app:// handler');
    return handler(new Request(url, init));
  };
  const headersOf = (response: Response) => Object.fromEntries(Object.keys(HEADERS).map((name) => [name, response.headers.get(name)]));

  it('serves the renderer folder\'s bytes, index.html for routes, each with the CSP and the other headers', async () => {
    await startedWindow();
    for (const [url, body, type] of [
      ['app://console/index.html', INDEX_HTML, 'text/html; charset=utf-8'],
      ['app://console/', INDEX_HTML, 'text/html; charset=utf-8'],
      ['app://console/customers/ORG-000001', INDEX_HTML, 'text/html; charset=utf-8'],
      ['app://console/assets/app.js', APP_JS, 'text/javascript; charset=utf-8'],
    ] as const) {
      const response = await serve(url);
      expect(response.status, url).toBe(200);
      expect(await response.text(), url).toBe(body);
      expect(response.headers.get('content-type'), url).toBe(type);
      expect(headersOf(response), url).toEqual(HEADERS);
    }
  });

  it('refuses paths outside the renderer folder (.., encoded, absolute), other hosts and methods, with the same headers', async () => {
    await startedWindow();
    for (const [url, init] of [
      ['app://console/../secret.js'],
      ['app://console/%2e%2e/secret.js'],
      ['app://console/%2e%2e/%2e%2e/secret.js'],
      ['app://console/..%2f..%2fsecret.js'],
      ['app://console/assets/%2e%2e%2f%2e%2e%2f%2e%2e%2fsecret.js'],
      ['app://console/..%5c..%5csecret.js'],
      [`app://console/${encodeURIComponent(join(dir, 'secret.js'))}`],
      [`app://console/${join(dir, 'secret.js')}`],
      ['app://console/%00.js'],
      ['app://console/missing.js'],
      ['app://other/index.html'],
      ['app://console/index.html', { method: 'POST', body: 'x' }],
    ] as [string, RequestInit?][]) {
      const response = await serve(url, init);
      expect(response.status, url).toBe(404);
      expect(await response.text(), url).not.toContain(SECRET);
      expect(headersOf(response), url).toEqual(HEADERS);
    }
    // The traversal targets exist, so a 404 above is a refusal, not a missing file.
    expect(readFileSync(join(dir, 'secret.js'), 'utf8')).toBe(SECRET);
  });
});

describe('IPC', () => {
  const ask = (frame: Frame | null) => {
    const handler = recorded.ipcHandlers.get('session:get');
    if (!handler) throw new Error('no session:get handler');
    const event: IpcEvent = { senderFrame: frame };
    return handler(event, {});
  };

  it('answers every contract channel for the app\'s top frame', async () => {
    const window = await startedWindow();
    expect([...recorded.ipcHandlers.keys()]).toEqual(CHANNEL_NAMES);
    expect(await ask(window.webContents.mainFrame)).toMatchObject({ ok: true, data: { status: 'signedOut' } });
  });

  it('refuses a frame that is not the app\'s: another origin, a subframe, no frame', async () => {
    const window = await startedWindow();
    const top = window.webContents.mainFrame;
    const refused = { ok: false, error: { code: 'forbidden', message: 'Refused.' } };
    for (const frame of [
      { url: 'https://evil.example/', parent: null },
      { url: 'app://other/index.html', parent: null },
      { url: 'file:///index.html', parent: null },
      { url: 'app://console/index.html', parent: top },
      null,
    ]) {
      expect(await ask(frame), frame?.url ?? 'no frame').toEqual(refused);
    }
    const log = readFileSync(join(dir, 'logs', 'cims-console.log'), 'utf8');
    expect(log).toContain('ipc.sender.refused');
  });
});

describe('the preload against main.ts', () => {
  it('carries window.cims calls from the page to the core and the core\'s events back, nothing else', async () => {
    await startedWindow();
    await import('./preload');
    const cims = recorded.exposedInMainWorld.cims as CimsBridge;
    expect(Object.keys(recorded.exposedInMainWorld)).toEqual(['cims']);
    expect(await cims.invoke('session:get', {})).toMatchObject({ ok: true, data: { status: 'signedOut' } });
    await expect(cims.invoke('shell:openExternal' as Channel, {})).rejects.toThrow('Unknown channel');

    const changes: unknown[] = [];
    cims.on('session:changed', (state) => changes.push(state));
    expect(await cims.invoke('session:signOut', {})).toMatchObject({ ok: true });
    await vi.waitFor(() => expect(changes).toContainEqual(expect.objectContaining({ status: 'signedOut' })));
  });
});

describe('a bad policy file', () => {
  it.each([
    ['not JSON', '{ "issuer": '],
    ['a plain-http issuer', JSON.stringify({ ...GOOD_POLICY, issuer: 'http://idp.example.test' })],
    ['an unknown field', JSON.stringify({ ...GOOD_POLICY, redirect: 'https://evil.example/' })],
  ])('(%s) shows the error dialog naming the file and quits, with no window', async (_name, text) => {
    await start({ policy: text });
    expect(dialog.showErrorBox).toHaveBeenCalledWith('CIMS Console cannot start', expect.stringContaining(policyFile()));
    expect(app.exit).toHaveBeenCalledWith(1);
    expect(recorded.windows).toEqual([]);
    expect(recorded.protocolHandlers.size).toBe(0);
    expect(recorded.ipcHandlers.size).toBe(0);
  });

  it('(missing, packaged) shows the error dialog and quits: an installed console never runs on environment values', async () => {
    await start({ packaged: true, policy: null });
    expect(dialog.showErrorBox).toHaveBeenCalledWith('CIMS Console cannot start', expect.stringContaining('No policy file'));
    expect(app.exit).toHaveBeenCalledWith(1);
    expect(recorded.windows).toEqual([]);
  });

  it('(plain-http issuer on loopback, packaged) shows the error dialog and quits: only development builds use the local stack', async () => {
    await start({ packaged: true, policy: JSON.stringify({ ...GOOD_POLICY, issuer: 'http://127.0.0.1:4800' }) });
    expect(dialog.showErrorBox).toHaveBeenCalledWith('CIMS Console cannot start', expect.stringContaining(policyFile()));
    expect(app.exit).toHaveBeenCalledWith(1);
    expect(recorded.windows).toEqual([]);
    expect(await start({ packaged: false, policy: JSON.stringify({ ...GOOD_POLICY, issuer: 'http://127.0.0.1:4800' }) })).toBeDefined();
  });
});

describe('before the window', () => {
  it('a second instance quits and opens nothing', async () => {
    resetStandIn({ isPackaged: true, paths: {}, singleInstance: false });
    await startShell({ preload: 'unused', rendererRoot: renderer, policyPath: policyFile(), secrets: emptyKeychain });
    expect(app.quit).toHaveBeenCalled();
    expect(recorded.windows).toEqual([]);
    expect(recorded.ipcHandlers.size).toBe(0);
  });

  it('takes the development profile override only when unpackaged', async () => {
    vi.stubEnv('CIMS_USER_DATA_DIR', join(dir, 'userData'));
    try {
      await startedWindow({ packaged: true });
      expect(app.setPath).not.toHaveBeenCalled();
      app.emit('window-all-closed');
      await startedWindow({ packaged: false });
      expect(app.setPath).toHaveBeenCalledWith('userData', join(dir, 'userData'));
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe('locking with the workstation', () => {
  const ISSUER = GOOD_POLICY.issuer;
  const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  /** The provider, answered inside net.fetch (the stand-in's network): discovery and the refresh grant a restart makes. */
  const provider = async (input: string | URL | Request): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } });
    if (url.pathname === '/.well-known/openid-configuration') {
      return json({ issuer: ISSUER, authorization_endpoint: `${ISSUER}/auth`, token_endpoint: `${ISSUER}/token`, jwks_uri: `${ISSUER}/jwks`, response_types_supported: ['code'] });
    }
    if (url.pathname === '/token') {
      const access = `${b64({ alg: 'none' })}.${b64({ sub: 'alice', name: 'Alice', roles: ['crm'] })}.sig`;
      return json({ access_token: access, token_type: 'Bearer', expires_in: 300 });
    }
    return new Response('not found', { status: 404 });
  };

  /** The shell started over a keychain holding a saved sign-in (rotation binding, so the restart restores it). */
  async function signedInShell(policy: Record<string, unknown>) {
    resetStandIn({ isPackaged: false, paths: { logs: join(dir, 'logs'), userData: join(dir, 'userData'), downloads: join(dir, 'downloads') } });
    writeFileSync(policyFile(), JSON.stringify({ ...GOOD_POLICY, tokenBinding: 'rotation', ...policy }));
    const entries = new Map<string, string>();
    const secrets: SecretStore = {
      get: async (account) => entries.get(account) ?? null,
      set: async (account, value) => void entries.set(account, value),
      delete: async (account) => entries.delete(account),
    };
    await new ChunkedSecret(secrets, refreshTokenAccount(GOOD_POLICY.issuer, GOOD_POLICY.clientId)).write(`rt-${'x'.repeat(40)}`);
    vi.mocked(net.fetch).mockImplementation(provider as unknown as typeof net.fetch);
    await startShell({ preload: join(dir, 'app', 'preload.cjs'), rendererRoot: renderer, policyPath: policyFile(), secrets });
    const window = recorded.windows[0]!;
    const status = async () => {
      const answer = (await recorded.ipcHandlers.get('session:get')!({ senderFrame: window.webContents.mainFrame }, {})) as { data: { status: string } };
      return answer.data.status;
    };
    expect(await status()).toBe('signedIn');
    return status;
  }

  it.each(['lock-screen', 'suspend', 'user-did-resign-active'])('locks the console when Electron reports %s', async (event) => {
    const status = await signedInShell({});
    powerMonitor.emit(event);
    expect(await status()).toBe('locked');
  });

  it('stays signed in when the policy turns it off', async () => {
    const status = await signedInShell({ lockOnScreenLock: false });
    powerMonitor.emit('lock-screen');
    powerMonitor.emit('suspend');
    expect(await status()).toBe('signedIn');
  });
});
