// The API as a Fastify instance. Plugins and hooks are added in an explicit
// order; reading this file top to bottom is the order a request meets them.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import { validatorCompiler } from 'fastify-type-provider-zod';
import { endpoints } from '../../shared/http';
import { API_AUDIENCE, createTokenVerifier, type TokenVerifier } from './auth';
import type { Store } from './db/store';
import { OneLinePerRequest, loggerOptions, type LogOptions } from './logging';
import type { AuditConfig } from './audit/trail';
import { auditTrailPlugin } from './plugins/audit-trail';
import { createDpopVerifier, type DpopOptions, type DpopVerifier } from './dpop';
import { authPlugin } from './plugins/auth';
import { openApiPlugin } from './plugins/openapi';
import { panGuardPlugin } from './plugins/pan-guard';
import { problemsPlugin } from './plugins/problems';
import { securityHeadersPlugin } from './plugins/security-headers';
import type { ChangeSource } from './live/listener';
import { livePlugin } from './live/plugin';
import { storePlugin } from './plugins/store';
import { systemRoutes } from './routes/system';
import { v1Routes } from './routes/v1';
import { StaffSightings, type StaffSightingsOptions } from './staff-seen';
import { serializerCompiler } from './validated';


export const API_VERSION = '0.1.0';
export const DEFAULT_BODY_LIMIT = 64 * 1024;

export interface RateLimitOptions {
  /** Requests per subject (or per client address before sign-in) in each window. */
  max: number;
  timeWindowMs: number;
}

export interface BuildAppOptions {
  store: Store;
  /** How often the staff directory notes a caller and how soon it sends the notes (staff-seen.ts). */
  staffSightings?: Pick<StaffSightingsOptions, 'everyMs' | 'flushMs'>;
  /** The audit signing key, trusted keys and checkpoint sink: the API refuses to run without them. */
  audit: AuditConfig;
  /** The OIDC issuer whose JWKS signs access tokens (discovered from `<issuer>/.well-known/openid-configuration`). */
  issuer: string;
  audience?: string;
  /** The model runner's OAuth client id (client_id/azp): only its tokens are service accounts. Unset: none are. */
  modelRunnerClientId?: string;
  /** The customer portal's OAuth client id (client_id/azp): only its tokens carry the customer role. Unset: none do. */
  portalClientId?: string;
  /** The process's one LISTEN connection for the change stream (live/listener.ts); without it GET /v1/events only heartbeats. */
  changes?: ChangeSource | null;
  /** Change stream tuning (tests, benchmarks). */
  live?: { heartbeatMs?: number; maxStreamsPerSubject?: number; maxStreamMs?: number };
  /** `false` for silence (tests), or where and how much to log. */
  logger?: false | LogOptions;
  bodyLimit?: number;
  rateLimit?: RateLimitOptions;
  /** Trust X-Forwarded-* from these proxies (Fastify's trustProxy); off by default. */
  trustProxy?: boolean | string | string[];
  /** Provide a verifier to share its token cache between app instances; otherwise one is created. */
  verifier?: TokenVerifier;
  /** DPoP (RFC 9449): `required` (IT's requireDpop) refuses people's bearer tokens; proofs of bound tokens are always checked. */
  dpop?: DpopOptions | DpopVerifier;
  /** Extra Fastify HTTPS options, used by the server entry point. */
  https?: { cert: string | Buffer; key: string | Buffer };
}

export type App = FastifyInstance;

/**
 * The request id is always the API's own: what the audit and access events record as the request,
 * what problems carry and what x-request-id answers. A caller's own x-request-id is never used as
 * it; a well-formed one is kept beside it (plugins/security-headers.ts clientRequestId).
 */
const requestId = (_req: IncomingMessage): string => randomUUID();

export async function buildApp(options: BuildAppOptions): Promise<App> {
  const verifier =
    options.verifier ??
    createTokenVerifier({
      issuer: options.issuer,
      audience: options.audience ?? API_AUDIENCE,
      ...(options.modelRunnerClientId ? { modelRunnerClientId: options.modelRunnerClientId } : {}),
      ...(options.portalClientId ? { portalClientId: options.portalClientId } : {}),
    });

  // Logging is set where Fastify creates its logger, before any plugin runs.
  const app = Fastify({
    logger: options.logger === false || options.logger === undefined ? false : loggerOptions(options.logger),
    // 1. Body size limit: larger bodies are refused with 413 before they are parsed.
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    // 2. Request ids: generated for every request, echoed below (with a valid client id beside), in every log line and problem.
    genReqId: requestId,
    requestIdHeader: false,
    logController: new OneLinePerRequest(),
    trustProxy: options.trustProxy ?? false,
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 100 },
    ...(options.https ? { https: options.https } : {}),
  });

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  await app.register(problemsPlugin);

  // 3. The request id and the security headers on every response, errors included.
  await app.register(securityHeadersPlugin);

  // 4-6. Identify the caller from the bearer token (onRequest), rate limit per
  //      verified subject else per address, then authentication and the role
  //      check (preParsing, before any request body is read).
  // The staff directory notes each caller after their response, in batches (staff-seen.ts).
  const sightings = new StaffSightings((people) => options.store.staffSeen(people), {
    ...options.staffSightings,
    onError: (err) => app.log.warn({ err }, 'staff directory: recording sightings failed'),
  });
  app.addHook('onClose', () => sightings.close());
  await app.register(authPlugin, {
    verifier,
    dpop: options.dpop && 'verify' in options.dpop ? options.dpop : createDpopVerifier(options.dpop),
    rateLimit: { max: options.rateLimit?.max ?? 600, timeWindowMs: options.rateLimit?.timeWindowMs ?? 60_000 },
    onCaller: (actor) => sightings.note(actor),
  });

  // 7. Card numbers: refused in every body and URL, before any handler, log line or database call sees them.
  await app.register(panGuardPlugin);

  await app.register(storePlugin, { store: options.store });
  await app.register(livePlugin, { source: options.changes ?? null, ...options.live });
  await app.register(auditTrailPlugin, { store: options.store, audit: options.audit });
  await app.register(openApiPlugin, { contract: endpoints, info: { title: 'CIMS internal API', version: API_VERSION } });

  // 8. Routes, from the contract in shared/http.ts.
  await app.register(systemRoutes);
  await app.register(v1Routes, { prefix: '/v1' });

  await app.ready();
  return app;
}
