import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import ts from 'typescript';
import {
  APP_RESPONSE_HEADERS,
  CONTENT_SECURITY_POLICY,
  LOCKED_WEB_PREFERENCES,
  decideWindowOpen,
  devicePermissionHandler,
  externalLinkAllowed,
  isTrustedSender,
  navigationAllowed,
  permissionCheckHandler,
  permissionRequestHandler,
  resolveAppFile,
  systemBrowserUrlAllowed,
} from './security';

/** Electronegativity reads main.ts's source, so this does too: every `new BrowserWindow(...)` and its options. */
function browserWindowOptions(): ts.ObjectLiteralExpression[] {
  const path = join(import.meta.dirname, 'main.ts');
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: ts.ObjectLiteralExpression[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isNewExpression(node) && node.expression.getText(source) === 'BrowserWindow') {
      const options = node.arguments?.[0];
      expect(options && ts.isObjectLiteralExpression(options), 'new BrowserWindow takes a literal options object').toBe(true);
      if (options && ts.isObjectLiteralExpression(options)) found.push(options);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const unwrap = (e: ts.Expression): ts.Expression => (ts.isSatisfiesExpression(e) || ts.isAsExpression(e) || ts.isParenthesizedExpression(e) ? unwrap(e.expression) : e);

/** A literal's value (true, false, a string) or its source text when it is an expression. */
function valueOf(e: ts.Expression): unknown {
  const v = unwrap(e);
  if (v.kind === ts.SyntaxKind.TrueKeyword) return true;
  if (v.kind === ts.SyntaxKind.FalseKeyword) return false;
  if (ts.isStringLiteral(v) || ts.isNoSubstitutionTemplateLiteral(v)) return v.text;
  return { expression: v.getText() };
}

describe('web preferences of the window (main.ts)', () => {
  it('are a literal at new BrowserWindow: isolated, sandboxed, no Node, DevTools only unpackaged, nothing spread in', () => {
    const windows = browserWindowOptions();
    expect(windows).toHaveLength(1);
    const prefs = windows[0]!.properties.find((p) => p.name?.getText() === 'webPreferences');
    expect(prefs && ts.isPropertyAssignment(prefs)).toBe(true);
    const literal = prefs && ts.isPropertyAssignment(prefs) ? unwrap(prefs.initializer) : null;
    expect(literal && ts.isObjectLiteralExpression(literal), 'webPreferences is an object literal').toBe(true);
    if (!literal || !ts.isObjectLiteralExpression(literal)) return;

    expect(literal.properties.every(ts.isPropertyAssignment), 'no spread, shorthand or method').toBe(true);
    const written = Object.fromEntries(
      literal.properties.filter(ts.isPropertyAssignment).map((p) => [p.name.getText(), valueOf(p.initializer)]),
    );
    expect(written).toEqual({
      ...LOCKED_WEB_PREFERENCES,
      preload: { expression: 'options.preload' },
      devTools: { expression: '!app.isPackaged' },
    });
    // The values that matter most, spelled out rather than taken from security.ts.
    expect(written).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, webviewTag: false });
  });
});

describe('content security policy', () => {
  const directives = Object.fromEntries(CONTENT_SECURITY_POLICY.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1).join(' ')]));
  it('allows only the app itself to run script and nothing to reach the network', () => {
    expect(directives).toMatchObject({
      'default-src': "'none'",
      'script-src': "'self'",
      'style-src': "'self'",
      'connect-src': "'none'",
      'object-src': "'none'",
      'frame-ancestors': "'none'",
      'base-uri': "'none'",
      'form-action': "'none'",
    });
    expect(directives['script-src']).not.toMatch(/unsafe|http|\*/);
    expect(directives['style-src']).not.toMatch(/unsafe/);
    expect(APP_RESPONSE_HEADERS['Content-Security-Policy']).toBe(CONTENT_SECURITY_POLICY);
  });
});

describe('navigation and new windows', () => {
  it('keeps navigation inside app://console', () => {
    expect(navigationAllowed('app://console/index.html')).toBe(true);
    for (const url of ['https://evil.example/', 'file:///etc/passwd', 'app://other/index.html', 'javascript:alert(1)', 'http://127.0.0.1:4800/']) {
      expect(navigationAllowed(url)).toBe(false);
    }
  });

  it('never opens a window; allow-listed https links go to the system browser', () => {
    const hosts = ['intranet.example.com'];
    expect(decideWindowOpen('https://intranet.example.com/help', hosts)).toEqual({ action: 'deny', openExternally: 'https://intranet.example.com/help' });
    for (const url of ['http://intranet.example.com/', 'https://evil.example/', 'https://user:pw@intranet.example.com/', 'file:///c:/x', 'not a url']) {
      expect(decideWindowOpen(url, hosts)).toEqual({ action: 'deny', openExternally: null });
    }
    expect(externalLinkAllowed('https://INTRANET.example.com/', hosts)).toBe(true);
    expect(externalLinkAllowed('https://intranet.example.com.evil.example/', hosts)).toBe(false);
  });

  it('opens only https (or loopback http) identity-provider pages in the system browser', () => {
    expect(systemBrowserUrlAllowed('https://idp.example.com/auth')).toBe(true);
    expect(systemBrowserUrlAllowed('http://127.0.0.1:4800/auth')).toBe(true);
    expect(systemBrowserUrlAllowed('http://idp.example.com/auth')).toBe(false);
    expect(systemBrowserUrlAllowed('file:///etc/passwd')).toBe(false);
    expect(systemBrowserUrlAllowed('smb://share/x')).toBe(false);
  });
});

describe('permissions', () => {
  it('denies every permission request and check', () => {
    for (const permission of ['media', 'notifications', 'clipboard-read', 'geolocation', 'openExternal', 'hid']) {
      let granted: boolean | null = null;
      permissionRequestHandler(null, permission, (g) => (granted = g));
      expect(granted).toBe(false);
    }
    expect(permissionCheckHandler()).toBe(false);
    expect(devicePermissionHandler()).toBe(false);
  });
});

describe('IPC senders', () => {
  it('trusts only the app origin top frame', () => {
    expect(isTrustedSender({ url: 'app://console/index.html', isMainFrame: true })).toBe(true);
    expect(isTrustedSender({ url: 'app://console/index.html', isMainFrame: false })).toBe(false);
    expect(isTrustedSender({ url: 'https://evil.example/', isMainFrame: true })).toBe(false);
    expect(isTrustedSender({ url: 'file:///app/index.html', isMainFrame: true })).toBe(false);
    expect(isTrustedSender(null)).toBe(false);
  });
});

describe('app:// file resolution', () => {
  const root = '/opt/cims/renderer';
  it('serves files under the renderer folder and index.html for routes', () => {
    expect(resolveAppFile('app://console/assets/index-abc.js', root)).toEqual({
      kind: 'file',
      path: join(root, 'assets/index-abc.js'),
      contentType: 'text/javascript; charset=utf-8',
    });
    expect(resolveAppFile('app://console/', root)).toMatchObject({ path: join(root, 'index.html') });
    expect(resolveAppFile('app://console/customers/ORG-000001', root)).toMatchObject({ path: join(root, 'index.html') });
  });

  it('refuses traversal, other hosts and unknown types', () => {
    // Whatever the encoding, a traversal attempt never leaves the renderer folder.
    for (const url of [
      'app://console/../../etc/passwd.js',
      'app://console/%2e%2e/%2e%2e/etc/shadow.json',
      'app://console/..%2f..%2f..%2fsecret.js',
      'app://console/assets/%2e%2e%2f%2e%2e%2f%2e%2e%2froot.js',
    ]) {
      const decision = resolveAppFile(url, root);
      if (decision.kind === 'file') expect(decision.path.startsWith(root + '/'), url).toBe(true);
    }
    for (const url of [
      'app://console/a%5c..%5c..%5cx.js',
      'app://console/%00.js',
      'app://console/%E0%A4%A.js',
      'app://other/index.html',
      'app://console/keys.pem',
      'https://console/index.html',
    ]) {
      expect(resolveAppFile(url, root), url).toEqual({ kind: 'notFound' });
    }
  });
});
