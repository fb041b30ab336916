// The OpenID Connect client: discovery, the authorization code flow with PKCE
// (S256), state and nonce, refresh, revocation (RFC 7009) and end-session.
// Every HTTP call goes through the fetch passed in (openid-client's
// customFetch), so in the app it uses Electron's network stack (OS proxy and
// trust store). Plain HTTP is accepted for loopback issuers only.
import * as client from 'openid-client';
import { isLoopbackUrl } from '../../shared/config';
import type { Fetch } from './deps';
import type { DpopKey } from './dpop';

/** Seconds of clock difference tolerated when checking ID token times: small and bounded. */
export const ID_TOKEN_CLOCK_TOLERANCE_S = 30;

export interface OidcSettings {
  issuer: string;
  clientId: string;
  scope: string;
  /** The API's resource indicator (RFC 8707). */
  audience: string;
  fetch: Fetch;
}

export interface TokenSet {
  accessToken: string;
  /** `DPoP` when the provider bound the token to the key of the request (RFC 9449 5.1), else `Bearer`. */
  tokenType: 'DPoP' | 'Bearer';
  /** Absent when the provider did not rotate it (keep the one you have). */
  refreshToken?: string;
  idToken?: string;
  /** Wall-clock epoch ms when the access token expires. */
  expiresAt: number;
  claims: Record<string, unknown>;
}

export interface AttemptSecrets {
  state: string;
  nonce: string;
  codeVerifier: string;
}

export interface AuthorizationRequest {
  url: string;
  state: string;
  /** Kept in memory for the exchange; never logged. */
  codeVerifier: string;
  nonce: string;
  redirectUri: string;
}

/** Raised when the provider refuses a grant (invalid_grant: revoked, reused, expired). */
export class GrantRefusedError extends Error {
  override name = 'GrantRefusedError';
}

/** Raised when the provider could not be reached. */
export class ProviderUnreachableError extends Error {
  override name = 'ProviderUnreachableError';
}

export class OidcClient {
  private config: client.Configuration | null = null;
  /** openid-client's proof signer per key: it also keeps the provider's DPoP nonce between requests. */
  private readonly handles = new WeakMap<DpopKey, client.DPoPHandle>();

  constructor(private readonly settings: OidcSettings) {}

  private async configuration(): Promise<client.Configuration> {
    if (this.config) return this.config;
    const loopback = isLoopbackUrl(this.settings.issuer);
    const customFetch: client.CustomFetch = (url, options) => this.settings.fetch(url, options as RequestInit);
    try {
      const config = await client.discovery(
        new URL(this.settings.issuer),
        this.settings.clientId,
        { token_endpoint_auth_method: 'none', [client.clockTolerance]: ID_TOKEN_CLOCK_TOLERANCE_S },
        client.None(),
        { [client.customFetch]: customFetch, ...(loopback ? { execute: [client.allowInsecureRequests] } : {}) },
      );
      config[client.customFetch] = customFetch;
      config.timeout = 30;
      this.config = config;
      return config;
    } catch (error) {
      throw wrap(error);
    }
  }

  /** Fresh per-attempt secrets: the listener needs the state before the URL (which needs the listener's port) exists. */
  static newAttempt(): AttemptSecrets {
    return { codeVerifier: client.randomPKCECodeVerifier(), state: client.randomState(), nonce: client.randomNonce() };
  }

  private async dpopOptions(dpop: DpopKey | undefined): Promise<client.DPoPOptions> {
    if (!dpop) return {};
    const config = await this.configuration();
    let handle = this.handles.get(dpop);
    if (!handle) {
      handle = client.getDPoPHandle(config, dpop.keyPair);
      this.handles.set(dpop, handle);
    }
    return { DPoP: handle };
  }

  /** With `dpop`, the code is bound to that key too (`dpop_jkt`, RFC 9449 10): only its holder can redeem it. */
  async authorizationRequest(
    { codeVerifier, state, nonce }: AttemptSecrets,
    redirectUri: string,
    extra: Record<string, string> = {},
    dpop?: DpopKey,
  ): Promise<AuthorizationRequest> {
    const config = await this.configuration();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: this.settings.scope,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      resource: this.settings.audience,
      ...(dpop ? { dpop_jkt: dpop.thumbprint } : {}),
      ...extra,
    });
    return { url: url.href, state, codeVerifier, nonce, redirectUri };
  }

  /** Checks the callback (state, issuer), exchanges the code and verifies the ID token (signature, nonce, times). */
  async exchange(request: AuthorizationRequest, callbackUrl: URL, now: number, dpop?: DpopKey): Promise<TokenSet> {
    const config = await this.configuration();
    try {
      const tokens = await client.authorizationCodeGrant(
        config,
        callbackUrl,
        { pkceCodeVerifier: request.codeVerifier, expectedState: request.state, expectedNonce: request.nonce },
        { resource: this.settings.audience, redirect_uri: request.redirectUri },
        await this.dpopOptions(dpop),
      );
      return toTokenSet(tokens, now);
    } catch (error) {
      throw wrap(error);
    }
  }

  /** A bound refresh token needs a proof from its key (RFC 9449 5.0): pass the sign-in's key. */
  async refresh(refreshToken: string, now: number, dpop?: DpopKey): Promise<TokenSet> {
    const config = await this.configuration();
    try {
      const tokens = await client.refreshTokenGrant(config, refreshToken, { resource: this.settings.audience }, await this.dpopOptions(dpop));
      return toTokenSet(tokens, now);
    } catch (error) {
      throw wrap(error);
    }
  }

  async revoke(refreshToken: string): Promise<void> {
    const config = await this.configuration();
    if (!config.serverMetadata().revocation_endpoint) return;
    try {
      await client.tokenRevocation(config, refreshToken, { token_type_hint: 'refresh_token' });
    } catch (error) {
      throw wrap(error);
    }
  }

  async endSessionUrl(idToken: string | undefined): Promise<string | null> {
    const config = await this.configuration();
    if (!config.serverMetadata().end_session_endpoint) return null;
    const params: Record<string, string> = { client_id: this.settings.clientId };
    if (idToken) params.id_token_hint = idToken;
    return client.buildEndSessionUrl(config, params).href;
  }
}

function toTokenSet(tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers, now: number): TokenSet {
  const expiresIn = tokens.expiresIn() ?? 300;
  const idClaims = tokens.claims() ?? {};
  return {
    accessToken: tokens.access_token,
    tokenType: tokens.token_type?.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer',
    ...(tokens.refresh_token ? { refreshToken: tokens.refresh_token } : {}),
    ...(tokens.id_token ? { idToken: tokens.id_token } : {}),
    expiresAt: now + expiresIn * 1000,
    claims: { ...decodeJwtPayload(tokens.access_token), ...idClaims },
  };
}

/**
 * The payload of a JWT, unverified. Used only to show who is signed in and their
 * roles (the API verifies the token itself); the ID token's claims, which
 * openid-client did verify, take precedence.
 */
export function decodeJwtPayload(token: string): Record<string, unknown> {
  const part = token.split('.')[1];
  if (!part) return {};
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function wrap(error: unknown): Error {
  if (error instanceof client.ResponseBodyError) {
    if (error.error === 'invalid_grant' || error.status === 400 || error.status === 401) {
      return new GrantRefusedError(`the identity provider refused the grant (${error.error})`);
    }
    return new ProviderUnreachableError(`the identity provider answered ${error.status}`);
  }
  if (error instanceof client.ClientError && /fetch|network|ECONNREFUSED|timeout|abort/i.test(`${error.message} ${String(error.cause)}`)) {
    return new ProviderUnreachableError('the identity provider could not be reached');
  }
  if (error instanceof TypeError) return new ProviderUnreachableError('the identity provider could not be reached');
  return error instanceof Error ? error : new Error(String(error));
}
