// Liveness and readiness, outside /v1 (load balancers and orchestrators call them).
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { endpoints } from '../../../shared/http';
import { HttpProblem } from '../plugins/problems';
import { route } from './route';

async function routes(app: FastifyInstance): Promise<void> {
  route(app, endpoints['system.health'], async () => ({ status: 'ok' as const }));

  route(app, endpoints['system.ready'], async (_input, req) => {
    try {
      await app.store.ping();
    } catch (err) {
      req.log.warn({ err }, 'database not ready');
      throw new HttpProblem(503, 'not-ready', 'The database is not reachable.', { 'retry-after': '5' });
    }
    return { status: 'ok' as const };
  });
}

export const systemRoutes = fp(routes, { name: 'cims-system', fastify: '5.x', encapsulate: true, dependencies: ['cims-store', 'cims-auth'] });
