// The API as a Fastify instance. Plugins and hooks are added in an explicit
// order; reading this file top to bottom is the order a request meets them.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance } from 'fastify';
import { validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { API_AUDIENCE, createTokenVerifier, type TokenVerifier } from './auth';
import type { Store } from './db/store';
import { enforceHook, identifyHook } from './guard';
import { OneLinePerRequest, loggerOptions, type LogOptions } from './logging';
import { createOpenApiCollector } from './openapi';
import { errorHandler, notFoundHandler } from './problem';
import { auditRoutes } from './routes/audit';
import { customerRoutes } from './routes/customers';
import { predictionRoutes } from './routes/predictions';
import { systemRoutes } from './routes/system';
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
  /** The OIDC issuer whose JWKS signs access tokens (discovered from `<issuer>/.well-known/openid-configuration`). */
  issuer: string;
  audience?: string;
  /** `false` for silence (tests), or where and how much to log. */
  logger?: false | LogOptions;
  bodyLimit?: number;
  rateLimit?: RateLimitOptions;
  /** Trust X-Forwarded-* from these proxies (Fastify's trustProxy); off by default. */
  trustProxy?: boolean | string | string[];
  /** Provide a verifier to share its token cache between app instances; otherwise one is created. */
  verifier?: TokenVerifier;
  /** Extra Fastify HTTPS options, used by the server entry point. */
  https?: { cert: string | Buffer; key: string | Buffer };
}

export type App = FastifyInstance;

const REQUEST_ID = /^[A-Za-z0-9._:-]{8,64}$/;

/**
 * Security headers for an API that serves JSON only, on every response (errors included): no
 * content may load, run or be framed; HTTPS only; no referrer; no MIME sniffing. They never
 * vary, so they are one frozen object rather than rebuilt per response.
 */
export const SECURITY_HEADERS = Object.freeze({
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'x-permitted-cross-domain-policies': 'none',
});

/** Accept the caller's x-request-id when it is a plain token (for correlation); otherwise make one. */
function requestId(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

export async function buildApp(options: BuildAppOptions): Promise<App> {
  const verifier =
    options.verifier ?? createTokenVerifier({ issuer: options.issuer, audience: options.audience ?? API_AUDIENCE });
  const openapi = createOpenApiCollector();

  const app = Fastify({
    logger: options.logger === false || options.logger === undefined ? false : loggerOptions(options.logger),
    // 1. Body size limit: larger bodies are refused with 413 before they are parsed.
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    // 2. Request ids: generated (or a safe incoming x-request-id), echoed below, in every log line and problem.
    genReqId: requestId,
    requestIdHeader: false,
    logController: new OneLinePerRequest(),
    trustProxy: options.trustProxy ?? false,
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 100 },
    ...(options.https ? { https: options.https } : {}),
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  app.addHook('onRoute', (route) => openapi.onRoute(route));

  // 3. The request id and the security headers on every response, errors included.
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id).headers(SECURITY_HEADERS);
  });

  // 4. Identify the caller from the bearer token (verified, cached), so that the
  //    rate limit below can key on the verified subject.
  app.addHook('onRequest', identifyHook(verifier));

  // 5. Rate limit per verified subject, else per client address. Its hook is
  //    added to each route, so it runs after the app-level hooks above.
  await app.register(rateLimit, {
    max: options.rateLimit?.max ?? 600,
    timeWindow: options.rateLimit?.timeWindowMs ?? 60_000,
    keyGenerator: (req) => (req.actor ? `sub:${req.actor.sub}` : `ip:${req.ip}`),
    errorResponseBuilder: (_req, ctx) =>
      Object.assign(new Error(`Rate limit exceeded, retry in ${ctx.after}`), { statusCode: ctx.statusCode }),
  });

  // 6. Authentication and role check for /v1/* (except the OpenAPI document),
  //    before any request body is read.
  app.addHook('preParsing', enforceHook);

  // 7. Routes.
  const deps = { store: options.store };
  await app.register(systemRoutes, { ...deps, openapi, version: API_VERSION });
  await app.register(customerRoutes, deps);
  await app.register(auditRoutes, deps);
  await app.register(predictionRoutes, deps);

  await app.ready();
  return app;
}
