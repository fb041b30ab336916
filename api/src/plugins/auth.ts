// Who may call what. Each route's endpoint declares `access` (shared/http.ts),
// copied into the route's config; this plugin applies it with two hooks:
// `identify` (onRequest) verifies the bearer token so the rate limiter can key
// on the verified subject, and `enforce` (preParsing, before any body is read)
// refuses requests without a valid token (401) or without the right (403).
// The database functions check authorization again; this is the first gate.
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Access } from '../../../shared/http';
import { accessCredentials, AuthError, isCustomer, isServiceAccount, type AuthScheme, type TokenVerifier } from '../auth';
import { createDpopVerifier, DpopError, type DpopVerifier } from '../dpop';
import type { Actor, RequestContext } from '../db/store';
import { HttpProblem } from './problems';
import { clientRequestId } from './security-headers';

export type { Access };

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    actor?: Actor;
    authFailure?: Error;
  }
}

export interface AuthPluginOptions {
  verifier: TokenVerifier;
  /** DPoP proofs (RFC 9449); bound tokens are always checked, `required` refuses people's bearer tokens. */
  dpop?: DpopVerifier;
  rateLimit: { max: number; timeWindowMs: number };
  /** Told of every caller with a valid token once the response is sent (the staff directory); must not throw. */
  onCaller?: (actor: Actor) => void;
}

/**
 * Hook order matters: identify (app-level onRequest) runs before the rate
 * limiter (whose onRequest hook is added to each route, so it runs after the
 * app-level ones), and enforce runs at preParsing, before any body is read.
 */
export const authPlugin = fp<AuthPluginOptions>(
  async (app: FastifyInstance, options) => {
    app.addHook('onRequest', identifyHook(options.verifier, options.dpop ?? createDpopVerifier()));
    await app.register(rateLimit, {
      max: options.rateLimit.max,
      timeWindow: options.rateLimit.timeWindowMs,
      // A customer's budget is their organization's: its contacts share one, whoever signs in.
      keyGenerator: (req) => (req.actor?.org ? `org:${req.actor.org}` : req.actor ? `sub:${req.actor.sub}` : `ip:${req.ip}`),
      errorResponseBuilder: (_req, ctx) =>
        Object.assign(new Error(`Rate limit exceeded, retry in ${ctx.after}`), { statusCode: ctx.statusCode }),
    });
    app.addHook('preParsing', enforceHook);
    const onCaller = options.onCaller;
    // After the response: never on a request's path.
    if (onCaller) app.addHook('onResponse', async (req) => void (req.actor && onCaller(req.actor)));
  },
  { name: 'cims-auth', fastify: '5.x', dependencies: ['cims-problems'] },
);

function accessOf(req: FastifyRequest): Access {
  const declared = req.routeOptions.config?.access;
  if (declared) return declared;
  // Unknown routes under /v1 still need a token, so they reveal nothing to strangers.
  return req.url.startsWith('/v1/') ? 'human' : 'public';
}

export function identifyHook(verifier: TokenVerifier, dpop: DpopVerifier) {
  return async function identify(req: FastifyRequest): Promise<void> {
    if (accessOf(req) === 'public') return;
    try {
      const { scheme, token } = accessCredentials(req.headers.authorization);
      const { actor, jkt } = await verifier.verifyBound(token);
      await checkBinding(req, dpop, scheme, token, jkt, actor);
      req.actor = actor;
    } catch (err) {
      req.authFailure = err as Error;
    }
  };
}

/**
 * A bound token only as `DPoP <token>` with a valid proof (a bound token sent as a bearer token is
 * refused, RFC 9449 7.2); an unbound one only as `Bearer`. With `required`, a person's bearer token is
 * refused too. Exempt: service paths, whose tokens are issued to confidential clients on servers and
 * never sit on a workstation: the model runner (client credentials) and the customer portal's back end.
 */
async function checkBinding(req: FastifyRequest, dpop: DpopVerifier, scheme: AuthScheme, token: string, jkt: string | null, actor: Actor) {
  if (jkt === null) {
    if (scheme === 'DPoP') throw new DpopError('invalid_token', 'The access token is not DPoP-bound; send it as a bearer token.');
    if (dpop.required && !isServiceAccount(actor) && !isCustomer(actor)) {
      throw new DpopError('invalid_token', 'This API requires DPoP-bound access tokens. Sign in again with a current console.');
    }
    return;
  }
  if (scheme !== 'DPoP') throw new DpopError('invalid_token', 'The access token is DPoP-bound; send it with the DPoP scheme and a proof.');
  await dpop.verify({ proof: req.headers.dpop, method: req.method, url: requestUrl(req), accessToken: token, jkt });
}

/** The URL the client sent the request to, as its proof's htu names it (behind a proxy: trustProxy's X-Forwarded-Proto and -Host). */
function requestUrl(req: FastifyRequest): string {
  return `${req.protocol}://${req.host}${req.url}`;
}

export async function enforceHook(req: FastifyRequest, _reply: FastifyReply): Promise<void> {
  const access = accessOf(req);
  if (access === 'public') return;
  const actor = req.actor;
  if (!actor) throw req.authFailure ?? new AuthError('missing_token', 'A bearer token is required.');
  if (!mayCall(actor, access)) {
    throw new HttpProblem(403, 'forbidden', 'Your roles do not allow this request.');
  }
}

export function mayCall(actor: Actor, access: Access): boolean {
  const service = isServiceAccount(actor);
  if (access === 'public') return true;
  // A customer's token reaches the endpoints that name the customer role and nothing else.
  if (isCustomer(actor)) return access !== 'human' && access !== 'service' && access.includes('customer');
  if (access === 'service') return service && actor.roles.length === 0;
  if (service) return false;
  if (access === 'human') return true;
  return access.some((role) => actor.roles.includes(role));
}

/** The verified caller of a non-public route (set by the hooks above). */
export function actorOf(req: FastifyRequest): Actor {
  if (!req.actor) throw new AuthError('missing_token', 'A bearer token is required.');
  return req.actor;
}

const APP_VERSION = /^[A-Za-z0-9][A-Za-z0-9.+_-]{0,49}$/;

/** Recorded with every audit and access event. The console sends `x-cims-app-version`. */
export function requestContext(req: FastifyRequest): RequestContext {
  const version = req.headers['x-cims-app-version'];
  return {
    requestId: String(req.id),
    clientRequestId: clientRequestId(req),
    clientAddress: req.ip || null,
    appVersion: typeof version === 'string' && APP_VERSION.test(version) ? version : null,
  };
}
