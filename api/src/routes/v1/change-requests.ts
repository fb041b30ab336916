// /v1/approval-rules and /v1/change-requests: four eyes. Handlers only translate
// HTTP to store calls; the database functions decide who may see, approve,
// reject or withdraw a request (the checker is never the maker) and write the
// audit and access events.
import type { FastifyInstance } from 'fastify';
import { etagFor } from '../../../../shared/api';
import { endpoints } from '../../../../shared/http';
import { actorOf, requestContext } from '../../plugins/auth';
import { route } from '../route';

export async function changeRequestRoutes(app: FastifyInstance): Promise<void> {
  const { store } = app;

  route(app, endpoints['approvalRules.get'], async (_input, req) => store.approvalRules(actorOf(req)));

  route(app, endpoints['changeRequests.list'], async ({ query }, req, reply) => {
    reply.header('cache-control', 'no-store');
    return store.changeRequests(actorOf(req), requestContext(req), query);
  });

  route(app, endpoints['changeRequests.get'], async ({ params }, req, reply) => {
    const request = await store.changeRequest(actorOf(req), requestContext(req), params.id);
    reply.header('etag', etagFor(request.version)).header('cache-control', 'no-store');
    return request;
  });

  route(app, endpoints['changeRequests.approve'], async ({ params, body, version }, req, reply) => {
    const request = await store.approveChangeRequest(actorOf(req), requestContext(req), params.id, version, body.reason);
    reply.header('etag', etagFor(request.version));
    return request;
  });

  route(app, endpoints['changeRequests.reject'], async ({ params, body, version }, req, reply) => {
    const request = await store.rejectChangeRequest(actorOf(req), requestContext(req), params.id, version, body.reason);
    reply.header('etag', etagFor(request.version));
    return request;
  });

  route(app, endpoints['changeRequests.withdraw'], async ({ params, body }, req, reply) => {
    const request = await store.withdrawChangeRequest(actorOf(req), requestContext(req), params.id, body.reason);
    reply.header('etag', etagFor(request.version));
    return request;
  });
}
