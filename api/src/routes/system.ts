// Liveness, readiness, the caller's own identity, and the OpenAPI document.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { Me, Role } from '../../../shared/api';
import { actorOf } from '../guard';
import type { OpenApiCollector } from '../openapi';
import { HttpProblem } from '../problem';
import { AUTHENTICATED_PROBLEMS, problems, type RouteDeps } from './common';

const Status = z.strictObject({ status: z.literal('ok') });

export interface SystemRouteDeps extends RouteDeps {
  openapi: OpenApiCollector;
  version: string;
}

export const systemRoutes: FastifyPluginAsyncZod<SystemRouteDeps> = async (app, { store, openapi, version }) => {
  app.get('/healthz', {
    config: { access: 'public' },
    schema: { summary: 'Liveness', response: { 200: Status, ...problems(500) } },
    handler: async () => ({ status: 'ok' as const }),
  });

  app.get('/readyz', {
    config: { access: 'public' },
    schema: { summary: 'Readiness: the database answers', response: { 200: Status, ...problems(500, 503) } },
    handler: async (req) => {
      try {
        await store.ping();
      } catch (err) {
        req.log.warn({ err }, 'database not ready');
        throw new HttpProblem(503, 'not-ready', 'The database is not reachable.', { 'retry-after': '5' });
      }
      return { status: 'ok' as const };
    },
  });

  app.get('/v1/me', {
    config: { access: 'human' },
    schema: { summary: 'Who the API thinks you are', response: { 200: Me, ...problems(...AUTHENTICATED_PROBLEMS) } },
    handler: async (req) => {
      const actor = actorOf(req);
      return { sub: actor.sub, name: actor.name, roles: actor.roles.filter((r) => Role.safeParse(r).success) as Role[] };
    },
  });

  app.get('/v1/openapi.json', {
    config: { access: 'public' },
    schema: { summary: 'This document', response: { 200: z.record(z.string(), z.unknown()), ...problems(500) } },
    handler: async () => openapi.document({ title: 'CIMS internal API', version }),
  });
};
