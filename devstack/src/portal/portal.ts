// The demo customer portal: a small web app whose back end is a confidential
// OpenID client of the provider (the client secret stays here). A customer's
// contact signs in on the provider's page (authorization code with PKCE, state
// and nonce, done server-side), and the back end calls the API's /v1/self with
// that contact's access token, which never reaches the browser (an HttpOnly
// session cookie names a session kept in memory). Cards are replaced through a
// stand-in for the payment processor that tokenizes in the browser (pages.ts).
//
// Listens before it knows the provider (the provider registers the portal's
// redirect URI, so it needs the port first): `connect` completes it.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import * as client from 'openid-client';
import { BillingMethodReplace, Problem, SelfContactFields, SelfOrganization, etagFor } from '../../../shared/api';
import { endpoints, pathFor } from '../../../shared/http';
import { holdsPan } from '../../../api/src/plugins/pan-guard';
import { closeServer, listen } from '../idp/provider';
import { CSS, PROCESSOR_JS, errorPage, organizationPage, processorPage, signInPage, type ContactForm } from './pages';

export const DEFAULT_PORTAL_PORT = 4803;
const SESSION_COOKIE = 'portal_session';
const SESSION_TTL_MS = 60 * 60 * 1000;
const MAX_SESSIONS = 1000;
const FORM_LIMIT = 8 * 1024;

const CSP = "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'none'; img-src 'self'; form-action 'self' http://127.0.0.1:*; frame-ancestors 'none'; base-uri 'none'";
const HEADERS: Record<string, string> = {
  'content-security-policy': CSP,
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

export interface PortalConnection {
  issuer: string;
  clientId: string;
  clientSecret: string;
  scope: string;
  audience: string;
  /** The API's base URL, e.g. http://127.0.0.1:4801. */
  apiUrl: string;
}

export interface Portal {
  url: string;
  redirectUri: string;
  connect(connection: PortalConnection): void;
  close(): Promise<void>;
}

interface Session {
  id: string;
  csrf: string;
  createdAt: number;
  pending?: { state: string; nonce: string; codeVerifier: string };
  accessToken?: string;
  /** When the access token was obtained: a refusal right after sign-in is not answered by signing in again. */
  signedInAt?: number;
  name?: string;
  /** One message for the next page (after a redirect). */
  flash?: { kind: 'ok' | 'error'; text: string };
}

const same = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export async function startPortal(options: { port?: number; host?: string; log?: (line: string) => void } = {}): Promise<Portal> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? (() => {});
  const sessions = new Map<string, Session>();
  let connection: PortalConnection | undefined;
  let oidc: Promise<client.Configuration> | undefined;
  const server = createServer();
  const port = await listen(server, host, options.port ?? 0, 'CIMS_PORTAL_PORT');
  const url = `http://${host}:${port}`;
  const redirectUri = `${url}/callback`;

  const configuration = () =>
    (oidc ??= client
      .discovery(new URL(connection!.issuer), connection!.clientId, connection!.clientSecret, client.ClientSecretBasic(connection!.clientSecret), {
        execute: [client.allowInsecureRequests],
      })
      .catch((err: unknown) => {
        oidc = undefined;
        throw err;
      }));

  const sessionOf = (req: IncomingMessage): Session | undefined => {
    const cookie = req.headers.cookie ?? '';
    const id = /(?:^|;\s*)portal_session=([A-Za-z0-9_-]{20,100})/.exec(cookie)?.[1];
    const s = id ? sessions.get(id) : undefined;
    if (s && Date.now() - s.createdAt > SESSION_TTL_MS) {
      sessions.delete(s.id);
      return undefined;
    }
    return s;
  };
  const newSession = (res: ServerResponse): Session => {
    if (sessions.size >= MAX_SESSIONS) sessions.delete(sessions.keys().next().value!);
    const s: Session = { id: randomBytes(24).toString('base64url'), csrf: randomBytes(24).toString('base64url'), createdAt: Date.now() };
    sessions.set(s.id, s);
    res.setHeader('set-cookie', `${SESSION_COOKIE}=${s.id}; HttpOnly; SameSite=Lax; Path=/`);
    return s;
  };

  const html = (res: ServerResponse, status: number, body: string) => {
    res.writeHead(status, { ...HEADERS, 'content-type': 'text/html; charset=utf-8' });
    res.end(body);
  };
  const redirect = (res: ServerResponse, location: string) => {
    res.writeHead(303, { ...HEADERS, location });
    res.end();
  };

  async function readForm(req: IncomingMessage): Promise<URLSearchParams | null> {
    if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) return null;
    let size = 0;
    const chunks: Buffer[] = [];
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > FORM_LIMIT) return null;
      chunks.push(chunk as Buffer);
    }
    return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
  }

  /** One call of the API with the contact's token. */
  async function api(s: Session, name: 'self.organization' | 'self.updateOrganization' | 'self.replaceBillingMethod', init: { body?: unknown; ifMatch?: number } = {}) {
    const e = endpoints[name];
    const headers: Record<string, string> = { authorization: `Bearer ${s.accessToken}`, accept: 'application/json' };
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    if (init.ifMatch !== undefined) headers['if-match'] = etagFor(init.ifMatch);
    const res = await fetch(`${connection!.apiUrl}${pathFor(e)}`, {
      method: e.method,
      headers,
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      signal: AbortSignal.timeout(10_000),
    });
    const json: unknown = await res.json().catch(() => null);
    if (res.ok) return { ok: true as const, org: SelfOrganization.parse(json) };
    const problem = Problem.safeParse(json);
    return { ok: false as const, status: res.status, problem: problem.success ? problem.data : undefined };
  }

  const signedIn = (s: Session) => ({ name: s.name ?? 'Signed in', csrf: s.csrf });

  /** The page after a refusal the contact cannot fix by retyping: sign in again, or a message. */
  function refused(res: ServerResponse, s: Session, status: number, detail?: string) {
    if (status === 401 && Date.now() - (s.signedInAt ?? 0) > 30_000) {
      // The 5-minute token ended: sign in again (the provider's session makes it one redirect).
      delete s.accessToken;
      return redirect(res, '/login');
    }
    if (status === 401) {
      delete s.accessToken;
      return html(res, 401, errorPage('Signed out', 'The sign-in was not accepted. Sign in again with your customer account.'));
    }
    if (status === 403) {
      return html(res, 403, errorPage('Not a customer account', 'This account cannot use the customer portal. Sign in with the account your organization was given.', signedIn(s)));
    }
    if (status === 404) {
      return html(res, 404, errorPage('No organization', 'Your account is not linked to an active organization. Contact your account manager.', signedIn(s)));
    }
    if (status === 429) return html(res, 429, errorPage('Too many requests', 'Your organization made many requests in a short time. Wait a minute and try again.', signedIn(s)));
    return html(res, 502, errorPage('Something went wrong', detail ?? 'The portal cannot reach your organization\u2019s details right now. Try again in a minute.', signedIn(s)));
  }

  async function home(req: IncomingMessage, res: ServerResponse, s: Session | undefined) {
    if (!s?.accessToken) {
      const message = s?.flash;
      if (s) delete s.flash;
      return html(res, 200, signInPage(message));
    }
    const r = await api(s, 'self.organization');
    if (!r.ok) return refused(res, s, r.status, r.problem?.detail);
    const message = s.flash;
    delete s.flash;
    return html(res, 200, organizationPage({ org: r.org, name: s.name ?? '', csrf: s.csrf, ...(message ? { message } : {}) }));
  }

  async function login(res: ServerResponse, existing: Session | undefined) {
    const s = existing ?? newSession(res);
    const config = await configuration();
    s.pending = { state: client.randomState(), nonce: client.randomNonce(), codeVerifier: client.randomPKCECodeVerifier() };
    const target = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: connection!.scope,
      code_challenge: await client.calculatePKCECodeChallenge(s.pending.codeVerifier),
      code_challenge_method: 'S256',
      state: s.pending.state,
      nonce: s.pending.nonce,
      resource: connection!.audience,
    });
    return redirect(res, target.href);
  }

  async function callback(req: IncomingMessage, res: ServerResponse, s: Session | undefined) {
    const pending = s?.pending;
    if (!s || !pending) return html(res, 400, signInPage({ kind: 'error', text: 'That sign-in has expired. Sign in again.' }));
    delete s.pending;
    const config = await configuration();
    try {
      const tokens = await client.authorizationCodeGrant(
        config,
        new URL(req.url ?? '/', url),
        { pkceCodeVerifier: pending.codeVerifier, expectedState: pending.state, expectedNonce: pending.nonce },
        { resource: connection!.audience, redirect_uri: redirectUri },
      );
      const claims = tokens.claims();
      const roles = Array.isArray(claims?.roles) ? claims.roles : [];
      if (!roles.includes('customer')) {
        // A staff account: the API would refuse its token here; say why instead of trying.
        return html(res, 403, signInPage({ kind: 'error', text: 'This account is not a customer account. Sign in with the account your organization was given.' }));
      }
      s.accessToken = tokens.access_token;
      s.signedInAt = Date.now();
      s.name = typeof claims?.name === 'string' ? claims.name : String(claims?.sub ?? '');
      // A new session id once signed in, so an id seen before sign-in is worth nothing after it.
      sessions.delete(s.id);
      s.id = randomBytes(24).toString('base64url');
      sessions.set(s.id, s);
      res.setHeader('set-cookie', `${SESSION_COOKIE}=${s.id}; HttpOnly; SameSite=Lax; Path=/`);
      return redirect(res, '/');
    } catch (err) {
      const cancelled = err instanceof client.AuthorizationResponseError && err.error === 'access_denied';
      log(`portal: sign-in failed (${err instanceof Error ? err.name : 'error'})`);
      return html(res, 400, signInPage({ kind: 'error', text: cancelled ? 'Sign-in was cancelled.' : 'Sign-in did not complete. Try again.' }));
    }
  }

  /** The posted form when its session and CSRF token are right (and it holds no card number), else null after answering. */
  async function postedForm(req: IncomingMessage, res: ServerResponse, s: Session | undefined): Promise<{ s: Session; form: URLSearchParams } | null> {
    const form = await readForm(req);
    if (!s?.accessToken || !form || !same(form.get('csrf') ?? '', s.csrf)) {
      html(res, 403, errorPage('Session expired', 'Your session has expired. Sign in again.'));
      return null;
    }
    // What the API would refuse anyway, stopped here too: the portal logs no part of it either.
    for (const [k, v] of form) {
      if (holdsPan(k) || holdsPan(v)) {
        html(res, 400, errorPage('Card numbers go on the card page', 'A form held what looks like a card number. Enter cards only on the card page.', signedIn(s)));
        return null;
      }
    }
    return { s, form };
  }

  async function saveContact(req: IncomingMessage, res: ServerResponse, session: Session | undefined) {
    const posted = await postedForm(req, res, session);
    if (!posted) return;
    const { s, form } = posted;
    const values = { contactName: form.get('contactName') ?? '', contactEmail: form.get('contactEmail') ?? '', contactPhone: form.get('contactPhone') ?? '' };
    const version = Number(form.get('version'));
    const current = await api(s, 'self.organization');
    if (!current.ok) return refused(res, s, current.status, current.problem?.detail);
    const checked = SelfContactFields.safeParse(values);
    const again = (f: ContactForm, message: { kind: 'ok' | 'error'; text: string }) =>
      html(res, 400, organizationPage({ org: current.org, name: s.name ?? '', csrf: s.csrf, form: f, message }));
    if (!checked.success) {
      const errors: ContactForm['errors'] = {};
      for (const issue of checked.error.issues) {
        const key = issue.path[0] as keyof ContactForm['errors'];
        errors[key] ??= issue.message;
      }
      return again({ values, errors }, { kind: 'error', text: 'Check the highlighted fields.' });
    }
    // Only what changed is sent, so the history lists what the contact really changed.
    const changes = Object.fromEntries(Object.entries(checked.data).filter(([k, v]) => current.org[k as keyof typeof checked.data] !== v));
    if (Object.keys(changes).length === 0) {
      s.flash = { kind: 'ok', text: 'Nothing to save: the details are as they were.' };
      return redirect(res, '/');
    }
    const r = await api(s, 'self.updateOrganization', { body: { changes }, ifMatch: Number.isInteger(version) ? version : 0 });
    if (r.ok) {
      s.flash = { kind: 'ok', text: 'Your contact details were saved.' };
      return redirect(res, '/');
    }
    if (r.status === 412) {
      s.flash = { kind: 'error', text: 'Someone changed these details while you were editing. Here they are as they are now; make your change again.' };
      return redirect(res, '/');
    }
    if (r.status === 400) {
      const errors: ContactForm['errors'] = {};
      for (const e of r.problem?.errors ?? []) {
        const key = e.path.split('.').at(-1) as keyof ContactForm['errors'];
        if (key in values) errors[key] ??= e.message;
      }
      return again({ values, errors }, { kind: 'error', text: r.problem?.detail ?? 'Check the highlighted fields.' });
    }
    return refused(res, s, r.status, r.problem?.detail);
  }

  async function saveCard(req: IncomingMessage, res: ServerResponse, session: Session | undefined) {
    const posted = await postedForm(req, res, session);
    if (!posted) return;
    const { s, form } = posted;
    const card = BillingMethodReplace.safeParse({
      processorToken: form.get('processorToken') ?? '',
      brand: form.get('brand') ?? '',
      last4: form.get('last4') ?? '',
      expMonth: Number(form.get('expMonth')),
      expYear: Number(form.get('expYear')),
    });
    if (!card.success) {
      return html(res, 400, processorPage({ name: s.name ?? '', csrf: s.csrf, error: 'The card could not be turned into a token. Check that JavaScript is on and try again.' }));
    }
    const r = await api(s, 'self.replaceBillingMethod', { body: card.data });
    if (r.ok) {
      s.flash = { kind: 'ok', text: 'Your card was replaced.' };
      return redirect(res, '/');
    }
    if (r.status === 400 || r.status === 409) {
      return html(res, 400, processorPage({ name: s.name ?? '', csrf: s.csrf, error: r.problem?.detail ?? 'The card was refused. Try another card.' }));
    }
    return refused(res, s, r.status, r.problem?.detail);
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const s = sessionOf(req);
    if (req.method === 'GET' && path === '/portal.css') {
      res.writeHead(200, { ...HEADERS, 'content-type': 'text/css; charset=utf-8', 'cache-control': 'max-age=300' });
      return res.end(CSS);
    }
    if (req.method === 'GET' && path === '/processor.js') {
      res.writeHead(200, { ...HEADERS, 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'max-age=300' });
      return res.end(PROCESSOR_JS);
    }
    if (req.method === 'GET' && path === '/favicon.ico') return res.writeHead(204).end();
    if (!connection) return html(res, 503, errorPage('Starting', 'The portal is starting. Try again in a moment.'));
    if (req.method === 'GET' && path === '/') return home(req, res, s);
    if (req.method === 'GET' && path === '/login') return login(res, s);
    if (req.method === 'GET' && path === '/callback') return callback(req, res, s);
    if (req.method === 'GET' && path === '/card') {
      if (!s?.accessToken) return redirect(res, '/');
      return html(res, 200, processorPage({ name: s.name ?? '', csrf: s.csrf }));
    }
    if (req.method === 'POST' && path === '/contact') return saveContact(req, res, s);
    if (req.method === 'POST' && path === '/card') return saveCard(req, res, s);
    if (req.method === 'POST' && path === '/logout') {
      const form = await readForm(req);
      if (s && form && same(form.get('csrf') ?? '', s.csrf)) sessions.delete(s.id);
      // A fresh session (its cookie replaces the old one) carries the message.
      const fresh = newSession(res);
      fresh.flash = { kind: 'ok', text: 'You are signed out of the portal.' };
      return redirect(res, '/');
    }
    return html(res, 404, errorPage('Not found', 'There is no such page.'));
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: unknown) => {
      // The reason only: never a token, a form value or a response body.
      log(`portal: request failed (${err instanceof Error ? err.name : 'error'})`);
      if (!res.headersSent) html(res, 502, errorPage('Something went wrong', 'The portal cannot reach the sign-in service or your organization\u2019s details right now. Try again in a minute.'));
      else res.end();
    });
  });

  return {
    url,
    redirectUri,
    connect(c) {
      connection = c;
    },
    close: () => closeServer(server),
  };
}
