// Every error leaves the API as RFC 9457 problem details with the request id.
// Client errors say what was wrong; server errors say nothing about internals.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { STATUS_CODES } from 'node:http';
import type { Problem } from '../../../shared/api';
import { AuthError, IssuerUnavailableError } from '../auth';
import { DPOP_ALGORITHMS, DpopCacheFullError, DpopError } from '../dpop';
import { StoreError, type StoreErrorKind } from '../db/store';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** An error the API raises on purpose, with the status and text the client should see. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly slug: string,
    readonly detail?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? slug);
    this.name = 'HttpProblem';
  }
}

const STORE_STATUS: Record<StoreErrorKind, { status: number; slug: string; headers?: Record<string, string> }> = {
  forbidden: { status: 403, slug: 'forbidden' },
  not_found: { status: 404, slug: 'not-found' },
  conflict: { status: 412, slug: 'precondition-failed' },
  validation: { status: 400, slug: 'validation' },
  duplicate: { status: 409, slug: 'duplicate' },
  busy: { status: 503, slug: 'busy', headers: { 'retry-after': '1' } },
  unavailable: { status: 503, slug: 'database-unavailable', headers: { 'retry-after': '5' } },
};

const problemType = (slug: string) => `urn:cims:problem:${slug}`;

function build(req: FastifyRequest, status: number, slug: string, detail?: string, errors?: Problem['errors']): Problem {
  const problem: Problem = {
    type: problemType(slug),
    title: STATUS_CODES[status] ?? 'Error',
    status,
    instance: req.url.split('?')[0],
    requestId: String(req.id),
  };
  if (detail) problem.detail = detail;
  if (errors) problem.errors = errors;
  return problem;
}

export function sendProblem(reply: FastifyReply, problem: Problem, headers: Record<string, string> = {}): FastifyReply {
  return reply.code(problem.status).headers(headers).type(PROBLEM_CONTENT_TYPE).send(problem);
}

/** Fastify's error handler: maps every thrown error to a problem response. */
export function errorHandler(err: FastifyError | Error, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (hasZodFastifySchemaValidationErrors(err)) {
    const where = (err as FastifyError).validationContext ?? 'request';
    const errors = err.validation.map((v) => ({
      path: [where, ...v.instancePath.split('/').filter(Boolean)].join('.'),
      message: v.message ?? 'Invalid value',
    }));
    return sendProblem(reply, build(req, 400, 'validation', 'The request does not match the schema.', errors));
  }
  if (err instanceof HttpProblem) return sendProblem(reply, build(req, err.status, err.slug, err.detail), err.headers);
  if (err instanceof AuthError) {
    const header =
      err.code === 'missing_token'
        ? 'Bearer realm="cims"'
        : `Bearer realm="cims", error="invalid_token", error_description="${err.message}"`;
    return sendProblem(reply, build(req, 401, 'unauthorized', err.message), { 'www-authenticate': header });
  }
  if (err instanceof DpopError) {
    // RFC 9449 7.1: the DPoP scheme's challenge; a nonce the client must use rides in DPoP-Nonce.
    const header = `DPoP algs="${DPOP_ALGORITHMS.join(' ')}", error="${err.code}", error_description="${err.message}"`;
    return sendProblem(reply, build(req, 401, 'unauthorized', err.message), {
      'www-authenticate': header,
      ...(err.nonce ? { 'dpop-nonce': err.nonce } : {}),
    });
  }
  if (err instanceof DpopCacheFullError) {
    req.log.error('DPoP replay cache full; refusing new proofs until entries expire');
    return sendProblem(reply, build(req, 503, 'busy', 'The API is busy. Try again shortly.'), { 'retry-after': '5' });
  }
  if (err instanceof IssuerUnavailableError) {
    req.log.error({ err }, 'token verification unavailable');
    return sendProblem(reply, build(req, 503, 'issuer-unavailable', 'Sign-in cannot be checked right now. Try again shortly.'), {
      'retry-after': '5',
    });
  }
  if (err instanceof StoreError) {
    const { status, slug, headers } = STORE_STATUS[err.kind];
    // Messages of deliberate database errors are written for the client (they carry no internals).
    return sendProblem(reply, build(req, status, slug, err.message), headers);
  }
  const status = (err as FastifyError).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // Fastify's own client errors (body too large, bad JSON, unsupported media type, rate limit).
    if (status === 429) return sendProblem(reply, build(req, 429, 'rate-limited', 'Too many requests. Slow down and retry later.'));
    return sendProblem(reply, build(req, status, slugFor(status), err.message));
  }
  req.log.error({ err }, 'request failed');
  return sendProblem(reply, build(req, 500, 'internal', 'Something went wrong on our side. Quote the request id when reporting it.'));
}

export function notFoundHandler(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendProblem(reply, build(req, 404, 'not-found', 'No such resource.'));
}

function slugFor(status: number): string {
  return (STATUS_CODES[status] ?? 'error').toLowerCase().replace(/[^a-z0-9]+/g, '-');
}

/** The error and not-found handlers, for the whole app (fastify-plugin: not encapsulated). */
export const problemsPlugin = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler(errorHandler);
    app.setNotFoundHandler(notFoundHandler);
  },
  { name: 'cims-problems', fastify: '5.x' },
);
