// /v1/assignments: admins move customers to another CRM, the listed ones or all
// of one owner's, in one transaction with one audit event per customer moved
// (api.assignments_apply authorizes again and checks the new owner is a CRM).
import type { FastifyInstance } from 'fastify';
import { endpoints } from '../../../../shared/http';
import { actorOf, requestContext } from '../../plugins/auth';
import { route } from '../route';

export async function assignmentRoutes(app: FastifyInstance): Promise<void> {
  const { store } = app;

  route(app, endpoints['assignments.create'], async ({ body }, req) => store.applyAssignment(actorOf(req), requestContext(req), body));
}
