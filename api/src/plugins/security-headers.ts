// The request id and the security headers, on every response (errors included).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

/** What a caller's own x-request-id may be: a plain token of 8 to 64 characters. Anything else is ignored. */
export const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{8,64}$/;

/** The caller's own x-request-id when it is well formed, for correlation with its logs; otherwise null. */
export function clientRequestId(req: Pick<FastifyRequest, 'headers'>): string | null {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && CLIENT_REQUEST_ID.test(incoming) ? incoming : null;
}

/**
 * Security headers for an API that serves JSON only: no content may load, run or be framed;
 * HTTPS only; no referrer; no MIME sniffing. They never vary, so they are one frozen object
 * rather than rebuilt per response.
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

export const securityHeadersPlugin = fp(
  async (app: FastifyInstance) => {
    app.addHook('onRequest', async (req, reply) => {
      // x-request-id is the API's own id (quote it when reporting a problem); the caller's, when valid, comes back beside it.
      reply.header('x-request-id', req.id).headers(SECURITY_HEADERS);
      const client = clientRequestId(req);
      if (client) reply.header('x-client-request-id', client);
    });
  },
  { name: 'cims-security-headers', fastify: '5.x' },
);
