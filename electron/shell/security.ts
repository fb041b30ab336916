// The window's security decisions as pure functions (no side effects at import),
// so each is tested as a function: web preferences, the Content-Security-Policy,
// what the app:// protocol serves, navigation, window.open, permissions and
// which IPC senders are trusted.
import { extname, normalize, resolve, sep } from 'node:path';
import type { WebPreferences } from 'electron';
import { isLoopbackUrl } from '../../shared/config';

export const APP_SCHEME = 'app';
export const APP_HOST = 'console';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY = `${APP_ORIGIN}/index.html`;

/**
 * Headers on every app:// response. The renderer reaches nothing but the bridge:
 * no remote script, no inline script or style element (see renderer/app/Providers),
 * no network. The policy is one literal assigned by its header name so that a
 * static scan (Electronegativity) finds and evaluates it.
 */
const appHeaders = {
  'Content-Security-Policy': '',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-cache',
};
appHeaders['Content-Security-Policy'] =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'none'; object-src 'none'; frame-src 'none'; worker-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

export const CONTENT_SECURITY_POLICY: string = appHeaders['Content-Security-Policy'];
export const APP_RESPONSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({ ...appHeaders });

/**
 * The window's security preferences. main.ts writes them out as a literal at
 * `new BrowserWindow` (where a static scan such as Electronegativity sees them),
 * and `satisfies LockedWebPreferences` there makes the compiler refuse any other
 * value; security.test.ts also reads that literal back from main.ts's source.
 */
export const LOCKED_WEB_PREFERENCES = {
  contextIsolation: true,
  sandbox: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  nodeIntegrationInSubFrames: false,
  webSecurity: true,
  allowRunningInsecureContent: false,
  experimentalFeatures: false,
  // A middle click asks for a new window (always refused); with no auxclick it does not even ask.
  disableBlinkFeatures: 'Auxclick',
  webviewTag: false,
  navigateOnDragDrop: false,
  spellcheck: false,
  safeDialogs: true,
} as const satisfies WebPreferences;

/** What main.ts passes: exactly LOCKED_WEB_PREFERENCES, the preload's path, and DevTools (off when packaged). */
export type LockedWebPreferences = typeof LOCKED_WEB_PREFERENCES & { preload: string; devTools: boolean };

export function isAppUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === `${APP_SCHEME}:` && url.host === APP_HOST;
  } catch {
    return false;
  }
}

/** IPC is answered only for the app's own top frame; anything else (a subframe, a navigated page) is refused. */
export function isTrustedSender(sender: { url: string; isMainFrame: boolean } | null | undefined): boolean {
  return Boolean(sender && sender.isMainFrame && isAppUrl(sender.url));
}

/** In-window navigation stays inside the app; everything else is denied. */
export function navigationAllowed(url: string): boolean {
  return isAppUrl(url);
}

/** An external link may open in the system browser when it is https and its host is allow-listed by policy. */
export function externalLinkAllowed(value: string, allowedHosts: readonly string[]): boolean {
  try {
    const url = new URL(value);
    if (url.protocol !== 'https:' || url.username || url.password) return false;
    const host = url.hostname.toLowerCase();
    return allowedHosts.some((h) => h.toLowerCase() === host);
  } catch {
    return false;
  }
}

export type WindowOpenDecision = { action: 'deny'; openExternally: string | null };

/** New windows are never created; allow-listed links go to the system browser instead. */
export function decideWindowOpen(url: string, allowedHosts: readonly string[]): WindowOpenDecision {
  return { action: 'deny', openExternally: externalLinkAllowed(url, allowedHosts) ? url : null };
}

/** What the core may open in the system browser: the identity provider's pages (https, or http on loopback). */
export function systemBrowserUrlAllowed(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackUrl(value));
  } catch {
    return false;
  }
}

/** Every permission (camera, notifications, clipboard, geolocation, HID, ...) is refused. */
export const permissionRequestHandler = (_wc: unknown, _permission: string, callback: (granted: boolean) => void): void =>
  callback(false);
export const permissionCheckHandler = (): boolean => false;
export const devicePermissionHandler = (): boolean => false;

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.map': 'application/json',
};

export type AppFileDecision = { kind: 'file'; path: string; contentType: string } | { kind: 'notFound' };

/**
 * Maps an app:// request to a file under the renderer folder. Other hosts,
 * traversal (`..`, encoded or not) and unknown file types are refused. A path
 * without an extension is a client-side route and gets index.html.
 */
export function resolveAppFile(requestUrl: string, rendererRoot: string): AppFileDecision {
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return { kind: 'notFound' };
  }
  if (!isAppUrl(requestUrl)) return { kind: 'notFound' };
  let pathname: string;
  try {
    pathname = decodeURIComponent(url.pathname);
  } catch {
    return { kind: 'notFound' };
  }
  if (pathname.includes('\0') || pathname.includes('\\')) return { kind: 'notFound' };
  const root = resolve(rendererRoot);
  const relative = pathname === '/' || extname(pathname) === '' ? 'index.html' : normalize(pathname).replace(/^[/\\]+/, '');
  const path = resolve(root, relative);
  if (path !== root && !path.startsWith(root + sep)) return { kind: 'notFound' };
  const contentType = MIME[extname(path).toLowerCase()];
  if (!contentType) return { kind: 'notFound' };
  return { kind: 'file', path, contentType };
}
