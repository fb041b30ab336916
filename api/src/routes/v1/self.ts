// /v1/self: a customer's contact, through the portal, reads and changes their own
// organization's contact and card on file. The organization is the one their
// token names (api/src/auth.ts), never a parameter; the database functions
// check the caller and the organization again and write the audit events.
import type { FastifyInstance } from 'fastify';
import { etagFor } from '../../../../shared/api';
import { endpoints } from '../../../../shared/http';
import { actorOf, requestContext } from '../../plugins/auth';
import { route } from '../route';

export async function selfRoutes(app: FastifyInstance): Promise<void> {
  const { store } = app;

  route(app, endpoints['self.organization'], async (_input, req, reply) => {
    const org = await store.selfOrganization(actorOf(req), requestContext(req));
    reply.header('etag', etagFor(org.version)).header('cache-control', 'no-store');
    return org;
  });

  route(app, endpoints['self.updateOrganization'], async ({ body, version }, req, reply) => {
    const org = await store.updateSelfOrganization(actorOf(req), requestContext(req), version, body.changes);
    reply.header('etag', etagFor(org.version)).header('cache-control', 'no-store');
    return org;
  });

  route(app, endpoints['self.replaceBillingMethod'], async ({ body }, req, reply) => {
    const org = await store.replaceBillingMethod(actorOf(req), requestContext(req), body);
    reply.header('etag', etagFor(org.version)).header('cache-control', 'no-store');
    return org;
  });
}
