// /v1/staff: the staff directory for admins (who the API has seen, and who owns
// how many customers). The database function authorizes again (admin only).
import type { FastifyInstance } from 'fastify';
import { endpoints } from '../../../../shared/http';
import { actorOf } from '../../plugins/auth';
import { route } from '../route';

export async function staffRoutes(app: FastifyInstance): Promise<void> {
  const { store } = app;

  route(app, endpoints['staff.list'], async (_input, req, reply) => {
    reply.header('cache-control', 'no-store');
    return store.staffList(actorOf(req));
  });
}
