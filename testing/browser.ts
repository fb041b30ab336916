// A sign-in made the way a browser makes it: GET the authorization URL, keep
// the provider's cookies, read and POST its login form, follow the redirects
// to a loopback listener started here (RFC 8252 7.3), then exchange the code
// with PKCE using plain fetch. No part of the provider is mocked.
import { dpopProof, type DpopKey } from './issuer';
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export class CookieJar {
  private readonly cookies = new Map<string, string>();
  store(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0/i.test(a) || /^\s*expires=Thu, 01 Jan 1970/i.test(a));
      if (!value || expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

export const decodeHtml = (s: string): string =>
  s.replace(/&#(\d+);/g, (_m, n: string) => String.fromCharCode(Number(n))).replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>');

export interface Loopback {
  redirectUri: string;
  /** The query of the next request the listener receives. */
  nextCallback(): Promise<URLSearchParams>;
  close(): Promise<void>;
}

/** The console's callback listener: 127.0.0.1 on an ephemeral port. */
export async function startLoopback(path = '/callback'): Promise<Loopback> {
  const waiting: Array<(q: URLSearchParams) => void> = [];
  const received: URLSearchParams[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    res.writeHead(200, { 'content-type': 'text/plain' }).end('You can close this window.');
    const next = waiting.shift();
    if (next) next(url.searchParams);
    else received.push(url.searchParams);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    redirectUri: `http://127.0.0.1:${port}${path}`,
    nextCallback: () => {
      const first = received.shift();
      return first ? Promise.resolve(first) : new Promise((resolve) => waiting.push(resolve));
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export const pkcePair = () => {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
};

export interface BrowserResult {
  /** The last response that was not a redirect within the issuer (a page), if any. */
  page?: { status: number; html: string; url: string };
  /** The query delivered to the loopback redirect URI, if the flow got there. */
  callback?: URLSearchParams;
}

/** Follows redirects like a browser; stops at a page of the issuer or at the loopback callback. */
export class Browser {
  readonly jar = new CookieJar();
  readonly loopbacks: Loopback[];
  constructor(
    private readonly issuer: string,
    ...loopbacks: Loopback[]
  ) {
    this.loopbacks = loopbacks;
  }

  async go(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<BrowserResult> {
    let method = init.method ?? 'GET';
    let body: string | undefined = init.form ? new URLSearchParams(init.form).toString() : undefined;
    let current = url;
    for (let hops = 0; hops < 10; hops++) {
      const loopback = this.loopbacks.find((l) => current.startsWith(l.redirectUri));
      if (loopback) {
        const delivered = loopback.nextCallback();
        await fetch(current);
        return { callback: await delivered };
      }
      if (!current.startsWith(this.issuer)) throw new Error(`browser left the issuer for ${current}`);
      const res = await fetch(current, {
        method,
        redirect: 'manual',
        headers: {
          cookie: this.jar.header(),
          ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
        body,
      });
      this.jar.store(res);
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        current = new URL(location, current).href;
        if (res.status !== 307 && res.status !== 308) {
          method = 'GET';
          body = undefined;
        }
        continue;
      }
      return { page: { status: res.status, html: await res.text(), url: current } };
    }
    throw new Error('too many redirects');
  }

  /** Submits the page's first form (the login form) with the given fields, as the submit button would. */
  async submit(pageResult: BrowserResult, fields: Record<string, string>): Promise<BrowserResult> {
    const html = pageResult.page?.html ?? '';
    const form = /<form[^>]*method="post"[^>]*action="([^"]+)"/i.exec(html);
    if (!form?.[1]) throw new Error('no form on the page');
    const hidden = Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, decodeHtml(m[2]!)]));
    return this.go(new URL(decodeHtml(form[1]), pageResult.page!.url).href, { method: 'POST', form: { ...hidden, ...fields } });
  }
}

export interface Discovery {
  authorization_endpoint: string;
  token_endpoint: string;
  revocation_endpoint: string;
  end_session_endpoint: string;
  jwks_uri: string;
  issuer: string;
}

export async function discover(issuer: string): Promise<Discovery> {
  const res = await fetch(`${issuer}/.well-known/openid-configuration`);
  if (!res.ok) throw new Error(`discovery failed: ${res.status}`);
  return (await res.json()) as Discovery;
}

export interface TokenResponse {
  access_token?: string;
  refresh_token?: string;
  id_token?: string;
  token_type?: string;
  expires_in?: number;
  scope?: string;
  error?: string;
  error_description?: string;
}

/** `dpopProof`: sent as the DPoP header (RFC 9449 5), so the provider binds the tokens to its key. */
export async function tokenRequest(endpoint: string, params: Record<string, string>, basicAuth?: { id: string; secret: string }, dpopProof?: string) {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(dpopProof ? { dpop: dpopProof } : {}),
      ...(basicAuth ? { authorization: `Basic ${Buffer.from(`${encodeURIComponent(basicAuth.id)}:${encodeURIComponent(basicAuth.secret)}`).toString('base64')}` } : {}),
    },
    body: new URLSearchParams(params).toString(),
  });
  return { status: res.status, body: (await res.json()) as TokenResponse };
}

export function authorizationUrl(d: Discovery, params: Record<string, string | undefined>): string {
  const url = new URL(d.authorization_endpoint);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return url.href;
}

/** The console's whole sign-in: authorization URL, login form, callback, code exchange with PKCE. */
export async function signIn(
  issuer: string,
  username: string,
  password: string,
  opts: { clientId?: string; scope?: string; browser?: Browser; dpop?: DpopKey } = {},
): Promise<{ tokens: TokenResponse; discovery: Discovery }> {
  const discovery = await discover(issuer);
  const loopback = await startLoopback();
  const browser = opts.browser ?? new Browser(issuer);
  browser.loopbacks.push(loopback);
  try {
    const { verifier, challenge } = pkcePair();
    const state = randomBytes(16).toString('base64url');
    const nonce = randomBytes(16).toString('base64url');
    const clientId = opts.clientId ?? 'cims-console';
    const login = await browser.go(
      authorizationUrl(discovery, {
        client_id: clientId,
        response_type: 'code',
        redirect_uri: loopback.redirectUri,
        scope: opts.scope ?? 'openid profile offline_access api',
        code_challenge: challenge,
        code_challenge_method: 'S256',
        state,
        nonce,
      }),
    );
    const done = await browser.submit(login, { username, password });
    const cb = done.callback;
    if (!cb) throw new Error(`sign-in did not reach the callback: ${done.page?.status}`);
    if (cb.get('state') !== state) throw new Error('state mismatch');
    if (cb.get('iss') !== issuer) throw new Error('iss mismatch');
    const code = cb.get('code');
    if (!code) throw new Error(`no code: ${cb.get('error')} ${cb.get('error_description')}`);
    const proof = opts.dpop ? await dpopProof(opts.dpop, { htm: 'POST', htu: discovery.token_endpoint }) : undefined;
    const { body } = await tokenRequest(
      discovery.token_endpoint,
      { grant_type: 'authorization_code', code, redirect_uri: loopback.redirectUri, client_id: clientId, code_verifier: verifier },
      undefined,
      proof,
    );
    return { tokens: body, discovery };
  } finally {
    browser.loopbacks.splice(browser.loopbacks.indexOf(loopback), 1);
    await loopback.close();
  }
}
