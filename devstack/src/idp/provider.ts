// The local OpenID provider (oidc-provider 9) for development, tests and the
// demo stack. It stands in for IT's provider (Keycloak, Entra ID, Okta) and is
// configured the way a careful enterprise setup would be: one first-party
// native client with PKCE and loopback redirects, JWT access tokens for the API
// audience (RFC 8707), DPoP-bound tokens when the console sends proofs (RFC 9449),
// rotating refresh tokens, revocation and end-session, and
// a confidential client-credentials client for the model runner. One addition no
// real provider has: a password grant for the demo seeder client only, from
// loopback only, so the stack's seeder gets demo users' tokens without driving
// the login page.
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Provider, { errors, interactionPolicy, type Account, type Configuration, type Grant, type KoaContextWithOIDC } from 'oidc-provider';
import { DEMO_ACCOUNTS, DEMO_CUSTOMER_ACCOUNTS } from '../seed/demo-accounts';
import { PAGE_HEADERS, escapeHtml, loginPage, messagePage, page } from './pages';
import { dummyHash, hashPassword, verifyPassword } from './passwords';
import { loadOrCreateSecrets } from './secrets';
import { createLockout, type LockoutOptions } from './lockout';
import { createStateStore } from './store';

export const CONSOLE_CLIENT_ID = 'cims-console';
export const MODEL_RUNNER_CLIENT_ID = 'cims-model-runner';
export const DEFAULT_API_AUDIENCE = 'urn:cims:api';
/** The scope the console asks for; the last one is the API's (shared/config.ts `Policy.scope` default). */
export const API_SCOPE = 'api';
export const CONSOLE_SCOPE = `openid profile offline_access ${API_SCOPE}`;
export const PREDICTIONS_WRITE_SCOPE = 'predictions:write';
/** Loopback redirects; any port is accepted for native clients (RFC 8252 7.3). */
export const CONSOLE_REDIRECT_URI = 'http://127.0.0.1/callback';
export const CONSOLE_POST_LOGOUT_REDIRECT_URI = 'http://127.0.0.1/signed-out';
export const DEFAULT_IDP_PORT = 4800;
export const DEMO_SEEDER_CLIENT_ID = 'cims-demo-seeder';
/** The resource owner password grant (RFC 6749 4.3), registered for the demo seeder client alone. */
export const DEMO_PASSWORD_GRANT = 'password';
export const STATE_FILE = 'idp-state.json';
/** The demo customer portal: a confidential web client whose back end does the code flow; its users are customers' contacts. */
export const PORTAL_CLIENT_ID = 'cims-portal';
export const PORTAL_SCOPE = `openid profile ${API_SCOPE}`;

export interface IdpAccount {
  username: string;
  name: string;
  roles: string[];
  /** Plain password, hashed with scrypt at start (demo and tests). */
  password?: string;
  /** Or an existing hash from `hashPassword`. */
  passwordHash?: string;
  /** A customer's contact: the one organization their tokens name (`org_id`, api/src/auth.ts). */
  orgId?: string;
}

export interface IdentityProviderOptions {
  /** 0 (the default) picks a free port; the stack passes CIMS_IDP_PORT or 4800. */
  port?: number;
  host?: string;
  /** Keeps the signing keys, cookie keys and the model runner's secret (created on first start, mode 0600). */
  dataDir: string;
  /** Defaults to the demo accounts (alice, carol, bob, erin) and the demo customers' contacts (dana, lee, sam). */
  accounts?: readonly IdpAccount[];
  apiAudience?: string;
  /**
   * Keep sessions, grants and refresh tokens in `<dataDir>/idp-state.json` so they survive a restart
   * (the stack does). Default false: in memory, gone when the provider closes (tests).
   */
  persistSessions?: boolean;
  /** Lifetime of JWT access tokens, in seconds (default 300). */
  accessTokenTtlSeconds?: number;
  /** One line per notable event; never receives tokens or passwords. Default: silent. */
  log?: (line: string) => void;
  /** Failed-password lockout per account (defaults: 10 failures in 15 minutes lock it for 15 minutes; 10,000 accounts tracked). */
  lockout?: LockoutOptions;
  /** Registers the customer portal as a confidential client with this redirect URI (its base URL is the post-logout redirect). */
  portal?: { redirectUri: string; baseUrl: string };
}

export interface IdentityProvider {
  issuer: string;
  port: number;
  jwksUri: string;
  apiAudience: string;
  consoleClientId: string;
  consoleScope: string;
  modelRunner: { clientId: string; clientSecret: string; scope: string };
  /** The demo seeder's client: `password` grant for the provider's accounts, API scope only. */
  demoSeeder: { clientId: string; clientSecret: string };
  /** The customer portal's client, when it was registered. */
  portal?: { clientId: string; clientSecret: string; scope: string };
  /** Accounts the lockout tracks now; never more than its bound. */
  readonly lockoutEntries: number;
  close(): Promise<void>;
}

/** The port is taken or cannot be bound; the message says what to do. */
export class PortInUseError extends Error {
  constructor(
    readonly host: string,
    readonly port: number,
    readonly envVar: string,
  ) {
    super(`Port ${port} on ${host} is already in use (another CIMS stack may be running). Stop that process, or set ${envVar} to a free port.`);
    this.name = 'PortInUseError';
  }
}

interface StoredAccount {
  username: string;
  name: string;
  roles: string[];
  passwordHash: string;
  orgId?: string;
}

const LOGIN_BODY_LIMIT = 8 * 1024;
/** What the login page says the person is signing in to. */
const CLIENT_NAMES: Record<string, string> = { [CONSOLE_CLIENT_ID]: 'CIMS Console', [PORTAL_CLIENT_ID]: 'the customer portal' };

export function issuerFor(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Listens on host:port, turning EADDRINUSE/EACCES into PortInUseError. */
export function listen(server: Server, host: string, port: number, envVar: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(err.code === 'EADDRINUSE' || err.code === 'EACCES' ? new PortInUseError(host, port, envVar) : err);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams | null> {
  const type = req.headers['content-type'] ?? '';
  if (!type.startsWith('application/x-www-form-urlencoded')) return null;
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > LOGIN_BODY_LIMIT) return null;
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** The peer address of a local connection (IPv4, IPv6 or IPv4-mapped). */
const isLoopbackPeer = (address: string | undefined): boolean => {
  const a = (address ?? '').replace(/^::ffff:/, '');
  return a === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
};

function send(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, PAGE_HEADERS);
  res.end(html);
}

export async function startIdentityProvider(options: IdentityProviderOptions): Promise<IdentityProvider> {
  const host = options.host ?? '127.0.0.1';
  const apiAudience = options.apiAudience ?? DEFAULT_API_AUDIENCE;
  const accessTokenTtl = options.accessTokenTtlSeconds ?? 300;
  const log = options.log ?? (() => {});
  const secrets = loadOrCreateSecrets(options.dataDir);
  // Derived, not stored: the secrets file keeps its format, and the seeder's secret is as private as the model runner's.
  const demoSeederSecret = createHmac('sha256', secrets.modelRunnerSecret).update(DEMO_SEEDER_CLIENT_ID).digest('base64url');
  const portalSecret = createHmac('sha256', secrets.modelRunnerSecret).update(PORTAL_CLIENT_ID).digest('base64url');
  const state = createStateStore(options.persistSessions ? join(options.dataDir, STATE_FILE) : undefined, log);

  const accounts = new Map<string, StoredAccount>();
  const configured: readonly IdpAccount[] = options.accounts ?? [...DEMO_ACCOUNTS, ...DEMO_CUSTOMER_ACCOUNTS];
  for (const a of configured) {
    const passwordHash = a.passwordHash ?? (a.password !== undefined ? await hashPassword(a.password) : undefined);
    if (!passwordHash) throw new Error(`Account ${a.username} has neither password nor passwordHash`);
    accounts.set(a.username.toLowerCase(), { username: a.username, name: a.name, roles: [...a.roles], passwordHash, ...(a.orgId ? { orgId: a.orgId } : {}) });
  }
  const lockout = createLockout(options.lockout);

  const server = createServer();
  const port = await listen(server, host, options.port ?? 0, 'CIMS_IDP_PORT');
  const issuer = issuerFor(host, port);

  const findAccount = (sub: string): Account | undefined => {
    const account = accounts.get(sub.toLowerCase());
    if (!account) return undefined;
    return {
      accountId: account.username,
      claims: () => ({ sub: account.username, name: account.name, roles: account.roles }),
    };
  };

  const resourceServer = (scope: string) => ({
    scope,
    audience: apiAudience,
    accessTokenTTL: accessTokenTtl,
    accessTokenFormat: 'jwt' as const,
    jwt: { sign: { alg: 'RS256' as const } },
  });

  /** The console's grant, as an enterprise provider pre-approves a first-party app: everything it may ask for. */
  const firstPartyGrant = async (provider: Provider, clientId: string, accountId: string, grantId: string | undefined): Promise<Grant> => {
    const existing = grantId ? await provider.Grant.find(grantId) : undefined;
    // A revoked grant (e.g. after refresh token reuse) is replaced by a fresh one at the next sign-in.
    const grant = existing ?? new provider.Grant({ clientId, accountId });
    // The portal gets no refresh token: its back end signs the customer in again when the token ends.
    grant.addOIDCScope(clientId === PORTAL_CLIENT_ID ? 'openid profile' : 'openid profile offline_access');
    grant.addResourceScope(apiAudience, API_SCOPE);
    await grant.save();
    return grant;
  };

  /** No consent screen for the first-party console: its grant is loaded (created) here. */
  const loadExistingGrant = async (ctx: KoaContextWithOIDC) => {
    const { client, session, result } = ctx.oidc;
    if (!client || !session) return undefined;
    const grantId = result?.consent?.grantId ?? session.grantIdFor(client.clientId);
    if ((client.clientId === CONSOLE_CLIENT_ID || client.clientId === PORTAL_CLIENT_ID) && session.accountId) {
      return firstPartyGrant(ctx.oidc.provider, client.clientId, session.accountId, grantId);
    }
    return grantId ? ctx.oidc.provider.Grant.find(grantId) : undefined;
  };

  // oidc-provider asks native clients for consent on every authorization; the first-party console is exempt.
  const policy = interactionPolicy.base();
  const consentPrompt = policy.get('consent')!;
  const nativeCheck = consentPrompt.checks.get('native_client_prompt')!;
  const nativeIndex = consentPrompt.checks.indexOf(nativeCheck);
  consentPrompt.checks.remove('native_client_prompt');
  consentPrompt.checks.add(
    new interactionPolicy.Check(nativeCheck.reason, nativeCheck.description, nativeCheck.error ?? 'interaction_required', (ctx) =>
      ctx.oidc.client?.clientId === CONSOLE_CLIENT_ID ? interactionPolicy.Check.NO_NEED_TO_PROMPT : nativeCheck.check(ctx),
    ),
    nativeIndex,
  );

  const pageSource = (title: string, body: string) => async (ctx: KoaContextWithOIDC) => {
    ctx.set(PAGE_HEADERS);
    ctx.body = page(title, body);
  };

  const configuration: Configuration = {
    adapter: (model: string) => state.adapterFor(model),
    clients: [
      {
        client_id: CONSOLE_CLIENT_ID,
        client_name: 'CIMS Console',
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: [CONSOLE_REDIRECT_URI],
        post_logout_redirect_uris: [CONSOLE_POST_LOGOUT_REDIRECT_URI],
        // OpenID scopes only (oidc-provider checks client scope against them); `api` comes from the resource server.
        scope: 'openid profile offline_access',
        id_token_signed_response_alg: 'RS256',
      },
      {
        client_id: MODEL_RUNNER_CLIENT_ID,
        client_name: 'CIMS model runner',
        client_secret: secrets.modelRunnerSecret,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
      },
      ...(options.portal
        ? [
            {
              client_id: PORTAL_CLIENT_ID,
              client_name: 'Customer portal',
              client_secret: portalSecret,
              application_type: 'web' as const,
              token_endpoint_auth_method: 'client_secret_basic' as const,
              grant_types: ['authorization_code'],
              response_types: ['code' as const],
              redirect_uris: [options.portal.redirectUri],
              post_logout_redirect_uris: [options.portal.baseUrl],
              scope: 'openid profile',
              id_token_signed_response_alg: 'RS256' as const,
            },
          ]
        : []),
      {
        client_id: DEMO_SEEDER_CLIENT_ID,
        client_name: 'CIMS demo seeder',
        client_secret: demoSeederSecret,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: [DEMO_PASSWORD_GRANT],
        response_types: [],
        redirect_uris: [],
      },
    ],
    jwks: { keys: secrets.signingKeys },
    cookies: { keys: secrets.cookieKeys },
    findAccount: (_ctx, sub) => findAccount(sub),
    claims: { openid: ['sub'], profile: ['name', 'roles'] },
    // OpenID scopes only: the API's scopes belong to its resource server (getResourceServerInfo).
    scopes: ['openid', 'offline_access', 'profile'],
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      revocation: { enabled: true },
      // DPoP (RFC 9449): a token request with a proof gets an access token bound to its key (`cnf.jkt` in
      // the JWT) and, for the console (a public client), a refresh token only that key can use. Proofs
      // are single-use here too; the console also binds the code with `dpop_jkt`.
      dPoP: { enabled: true, allowReplay: false },
      introspection: { enabled: false },
      userinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.set(PAGE_HEADERS);
          // `form` is the provider's own hidden form (id op.logoutForm) carrying its CSRF token.
          ctx.body = page(
            'Sign out - CIMS',
            `<h1>Sign out of CIMS?</h1>\n<p>You are signed in at ${escapeHtml(ctx.host)}.</p>\n${form}\n` +
              `<button type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>Yes, sign me out</button>\n` +
              `<button type="submit" form="op.logoutForm">No, stay signed in</button>`,
          );
        },
        postLogoutSuccessSource: pageSource('Signed out - CIMS', '<h1>Signed out</h1>\n<p>You can close this window.</p>'),
      },
      resourceIndicators: {
        enabled: true,
        // Clients that name no resource get the API: the console then needs no extra parameter.
        defaultResource: () => apiAudience,
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, resource, client) => {
          if (resource !== apiAudience) throw new errors.InvalidTarget();
          if (client.clientId === MODEL_RUNNER_CLIENT_ID) {
            // A service account gets predictions:write or an error, never a token with a silently narrowed scope.
            const requested = String(ctx.oidc.params?.scope ?? PREDICTIONS_WRITE_SCOPE).split(' ').filter(Boolean);
            const other = requested.find((scope) => scope !== PREDICTIONS_WRITE_SCOPE);
            if (other !== undefined) throw new errors.InvalidScope('requested scope is not allowed', other);
            return resourceServer(PREDICTIONS_WRITE_SCOPE);
          }
          if (client.clientId === CONSOLE_CLIENT_ID || client.clientId === DEMO_SEEDER_CLIENT_ID || client.clientId === PORTAL_CLIENT_ID) {
            return resourceServer(API_SCOPE);
          }
          throw new errors.InvalidTarget();
        },
      },
    },
    extraTokenClaims: async (_ctx, token) => {
      // Client-credentials tokens carry no roles: a service account has its scope only.
      if (token.kind !== 'AccessToken' || !token.accountId) return undefined;
      const account = accounts.get(token.accountId.toLowerCase());
      if (!account) return undefined;
      // A customer's contact names their one organization; the API accepts that only from the portal's client.
      return { name: account.name, roles: account.roles, ...(account.orgId ? { org_id: account.orgId } : {}) };
    },
    // offline_access is dropped from the request unless prompt=consent; the first-party console gets refresh tokens anyway.
    issueRefreshToken: (_ctx, client) => client.clientId === CONSOLE_CLIENT_ID && client.grantTypeAllowed('refresh_token'),
    expiresWithSession: (_ctx, source) => source.clientId !== CONSOLE_CLIENT_ID,
    rotateRefreshToken: true,
    loadExistingGrant,
    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? accessTokenTtl,
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? accessTokenTtl,
      AuthorizationCode: 60,
      IdToken: 600,
      Interaction: 600,
      RefreshToken: 8 * 60 * 60,
      Session: 8 * 60 * 60,
      Grant: 14 * 24 * 60 * 60,
    },
    interactions: { policy, url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    renderError: async (ctx, out) => {
      ctx.set(PAGE_HEADERS);
      const description = out.error_description ?? out.error ?? 'The request could not be completed.';
      ctx.body = page(
        'Sign-in error - CIMS',
        `<h1>Something went wrong</h1>\n<p>${escapeHtml(description)}</p>\n<p class="muted">Error: ${escapeHtml(out.error ?? 'server_error')}. Return to the application and try again.</p>`,
      );
    },
  };

  const provider = new Provider(issuer, configuration);
  provider.registerGrantType(DEMO_PASSWORD_GRANT, async (ctx) => {
    // The client check (grant_types) has run: only the demo seeder gets here.
    const { client, params } = ctx.oidc;
    if (!isLoopbackPeer(ctx.req.socket.remoteAddress)) throw new errors.InvalidGrant('the demo password grant is only served to this machine');
    const requested = String(params.scope ?? API_SCOPE).split(' ').filter(Boolean);
    const other = requested.find((scope) => scope !== API_SCOPE);
    if (other !== undefined) throw new errors.InvalidScope('requested scope is not allowed', other);
    const username = String(params.username ?? '').trim().slice(0, 100);
    const account = accounts.get(username.toLowerCase());
    // The login page's rule: the same work and the same answer whether or not the user exists.
    const ok = (await verifyPassword(account?.passwordHash ?? (await dummyHash()), String(params.password ?? ''))) && account !== undefined;
    if (!ok || lockout.isLocked(username)) {
      if (!ok) lockout.fail(username);
      log('identity provider: failed demo password grant');
      throw new errors.InvalidGrant('wrong username or password');
    }
    lockout.succeed(username);
    const grant = new provider.Grant({ clientId: client.clientId, accountId: account.username });
    grant.addResourceScope(apiAudience, API_SCOPE);
    const grantId = await grant.save();
    const token = new provider.AccessToken({ client, accountId: account.username, grantId, gty: DEMO_PASSWORD_GRANT, scope: API_SCOPE });
    token.resourceServer = { ...resourceServer(API_SCOPE), scopes: new Set([API_SCOPE]), identifier: () => apiAudience };
    ctx.oidc.entity('AccessToken', token);
    const accessToken = await token.save();
    ctx.body = { access_token: accessToken, token_type: token.tokenType, expires_in: token.expiration, scope: API_SCOPE };
  }, ['username', 'password', 'scope']);
  provider.on('server_error', (_ctx, err) => log(`identity provider error: ${err.message}`));
  provider.on('grant.revoked', (_ctx, grantId) => log(`identity provider: grant ${grantId} revoked`));
  const oidc = provider.callback();

  const interaction = async (req: IncomingMessage, res: ServerResponse, uid: string, action: string | undefined) => {
    let details;
    try {
      details = await provider.interactionDetails(req, res);
    } catch {
      return send(res, 400, messagePage('Sign-in expired', 'This sign-in page has expired. Return to the application and start signing in again.'));
    }
    if (details.uid !== uid) return send(res, 400, messagePage('Sign-in expired', 'This sign-in page does not match your browser session. Return to the application and start again.'));
    const clientId = String(details.params.client_id ?? '');
    const base = `/interaction/${encodeURIComponent(uid)}`;
    const render = (status: number, username?: string, error?: string) =>
      send(res, status, loginPage({ action: `${base}/login`, abortAction: `${base}/abort`, clientName: CLIENT_NAMES[clientId] ?? clientId, username, error }));

    if (action === '/abort' && req.method === 'GET') {
      return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The user cancelled the sign-in.' }, { mergeWithLastSubmission: false });
    }
    if (details.prompt.name === 'consent' && (clientId === CONSOLE_CLIENT_ID || clientId === PORTAL_CLIENT_ID) && details.session?.accountId) {
      // Reached only when the console asks for prompt=consent: approved without a screen, as above.
      const grant = await firstPartyGrant(provider, clientId, details.session.accountId, details.grantId);
      return provider.interactionFinished(req, res, { consent: { grantId: grant.jti } }, { mergeWithLastSubmission: true });
    }
    if (details.prompt.name !== 'login') {
      // Only first-party clients sign users in here, so any other prompt is refused.
      return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'This application is not allowed to ask for consent.' }, { mergeWithLastSubmission: false });
    }
    if (!action && req.method === 'GET') return render(200);
    if (action === '/login' && req.method === 'POST') {
      const form = await readForm(req);
      const username = (form?.get('username') ?? '').trim().slice(0, 100);
      const password = form?.get('password') ?? '';
      const account = accounts.get(username.toLowerCase());
      // Same work whether or not the user exists, and the same message either way: no user enumeration.
      const ok = (await verifyPassword(account?.passwordHash ?? (await dummyHash()), password)) && account !== undefined;
      // Counted per account, not per interaction: starting a new sign-in does not reset it. A locked
      // account is refused even with the right password, with the same answer for unknown usernames.
      const locked = ok ? lockout.isLocked(username) : lockout.fail(username);
      if (!ok) log('identity provider: failed sign-in attempt');
      if (locked) {
        log('identity provider: sign-in refused, account locked after failed attempts');
        return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'Too many failed sign-in attempts. Try again later.' }, { mergeWithLastSubmission: false });
      }
      if (!ok) return render(200, username, 'Wrong username or password. Try again.');
      lockout.succeed(username);
      return provider.interactionFinished(req, res, { login: { accountId: account.username } }, { mergeWithLastSubmission: false });
    }
    res.writeHead(405, { allow: action ? (action === '/login' ? 'POST' : 'GET') : 'GET' });
    res.end();
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === '/favicon.ico') {
      res.writeHead(204, { 'cache-control': 'max-age=86400' }).end(); // browsers ask; there is none
      return;
    }
    const match = /^\/interaction\/([A-Za-z0-9_-]{1,100})(\/login|\/abort)?$/.exec(path);
    if (!match) {
      void oidc(req, res);
      return;
    }
    interaction(req, res, match[1]!, match[2]).catch((err: unknown) => {
      log(`identity provider: interaction failed: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent) send(res, 500, messagePage('Sign-in failed', 'Something went wrong. Return to the application and try again.'));
      else res.end();
    });
  });

  let closed: Promise<void> | undefined;
  return {
    issuer,
    port,
    jwksUri: `${issuer}/jwks`,
    apiAudience,
    consoleClientId: CONSOLE_CLIENT_ID,
    consoleScope: CONSOLE_SCOPE,
    modelRunner: { clientId: MODEL_RUNNER_CLIENT_ID, clientSecret: secrets.modelRunnerSecret, scope: PREDICTIONS_WRITE_SCOPE },
    demoSeeder: { clientId: DEMO_SEEDER_CLIENT_ID, clientSecret: demoSeederSecret },
    ...(options.portal ? { portal: { clientId: PORTAL_CLIENT_ID, clientSecret: portalSecret, scope: PORTAL_SCOPE } } : {}),
    get lockoutEntries() {
      return lockout.size;
    },
    close: () => (closed ??= closeServer(server).then(() => state.flush())),
  };
}
