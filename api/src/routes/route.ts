// Routes are registered from the HTTP contract: method, path (relative to the
// plugin's prefix), access, schemas and status come from the endpoint, so a
// handler only maps its typed input to a store call, and returning the wrong
// shape is a type error.
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import type { z } from 'zod';
import { isSuccessStatus, successStatus, type Endpoint, type SuccessSchema } from '../../../shared/http';
import { HttpProblem } from '../plugins/problems';

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

/** The validated request, as the endpoint declares it; `version` is the If-Match of a write. */
export type RouteInput<E extends Endpoint> = {
  params: E extends { params: infer P } ? Out<P> : undefined;
  query: E extends { query: infer Q } ? Out<Q> : undefined;
  body: E extends { body: infer B } ? Out<B> : undefined;
} & (E extends { ifMatch: true } ? { version: number } : unknown);

/** What a handler returns: the 2xx body (validated by the serializer), or a stream for non-JSON endpoints. */
export type RouteOutput<E extends Endpoint> = E extends { produces: string } ? Readable : z.input<SuccessSchema<E>>;

export type RouteHandler<E extends Endpoint> = (input: RouteInput<E>, req: FastifyRequest, reply: FastifyReply) => Promise<RouteOutput<E>>;

/** The endpoint's path relative to the prefix the routes are registered under. */
function relativePath(prefix: string, path: string): string {
  if (!path.startsWith(prefix)) throw new Error(`${path} is not under the prefix ${prefix}`);
  return path.slice(prefix.length);
}

export function route<E extends Endpoint>(app: FastifyInstance, endpoint: E, handler: RouteHandler<E>): void {
  const status = successStatus(endpoint);
  const schema: FastifySchema = { response: endpoint.responses };
  if (endpoint.params) schema.params = endpoint.params;
  if (endpoint.query) schema.querystring = endpoint.query;
  if (endpoint.body) schema.body = endpoint.body;
  app.route({
    method: endpoint.method,
    url: relativePath(app.prefix, endpoint.path),
    config: { access: endpoint.access },
    schema,
    handler: async (req, reply) => {
      const input = {
        params: req.params,
        query: req.query,
        body: req.body,
        // Checked here, after body validation, so that a missing If-Match is 428, never 400.
        ...(endpoint.ifMatch ? { version: expectedVersion(req.headers['if-match']) } : {}),
      } as RouteInput<E>;
      const output = await handler(input, req, reply);
      // A handler may answer with another success its endpoint declares (202: waits for approval).
      if (!isSuccessStatus(endpoint, reply.statusCode)) reply.code(status);
      return output;
    },
  });
}

/**
 * The version a write expects, from `If-Match: "<version>"` (the ETag of the read).
 * Missing: 428. `*` defeats the purpose (a blind overwrite): 428 as well. Any other
 * value names no current version: 412.
 */
export function expectedVersion(header: string | undefined): number {
  if (!header || header.trim() === '*') {
    throw new HttpProblem(428, 'precondition-required', 'Send If-Match with the ETag of the version you edited.');
  }
  const match = /^\s*"([1-9][0-9]{0,9})"\s*$/.exec(header);
  // Versions are 32-bit integers in the database; anything else cannot be current.
  if (!match?.[1] || Number(match[1]) > 2_147_483_647) {
    throw new HttpProblem(412, 'precondition-failed', 'If-Match does not name a version of this record.');
  }
  return Number(match[1]);
}
