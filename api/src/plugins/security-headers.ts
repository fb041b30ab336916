// The request id and the security headers, on every response (errors included).
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

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
      reply.header('x-request-id', req.id).headers(SECURITY_HEADERS);
    });
  },
  { name: 'cims-security-headers', fastify: '5.x' },
);
