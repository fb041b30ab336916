// /v1/me and the OpenAPI document.
import type { FastifyInstance } from 'fastify';
import { Role } from '../../../../shared/api';
import { endpoints } from '../../../../shared/http';
import { actorOf } from '../../plugins/auth';
import { route } from '../route';

export async function meRoutes(app: FastifyInstance): Promise<void> {
  route(app, endpoints['system.me'], async (_input, req) => {
    const actor = actorOf(req);
    return { sub: actor.sub, name: actor.name, roles: actor.roles.filter((r): r is Role => Role.safeParse(r).success) };
  });

  route(app, endpoints['system.openapi'], async () => app.openapi());
}
