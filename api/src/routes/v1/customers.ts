// /v1/customers: search, read, create, edit, archive, and the per-customer
// usage, predictions, audit trail and access log. Handlers only translate HTTP
// to store calls; the database functions authorize again and write the audit
// and access events.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { etagFor } from '../../../../shared/api';
import { endpoints, pathFor, USAGE_DEFAULT_DAYS } from '../../../../shared/http';
import type { EditOutcome } from '../../db/store';
import { actorOf, requestContext } from '../../plugins/auth';
import { HttpProblem } from '../../plugins/problems';
import { route } from '../route';

const DAY_MS = 86_400_000;
const USAGE_MAX_DAYS = 3 * 366;

export async function customerRoutes(app: FastifyInstance): Promise<void> {
  const { store } = app;

  route(app, endpoints['customers.list'], async ({ query }, req) => store.searchCustomers(actorOf(req), requestContext(req), query));

  route(app, endpoints['customers.get'], async ({ params }, req, reply) => {
    const detail = await store.getCustomer(actorOf(req), requestContext(req), params.orgId);
    reply.header('etag', etagFor(detail.customer.version)).header('cache-control', 'no-store');
    return detail;
  });

  route(app, endpoints['customers.create'], async ({ body }, req, reply) => {
    const detail = await store.createCustomer(actorOf(req), requestContext(req), body);
    reply
      .header('location', pathFor(endpoints['customers.get'], { orgId: detail.customer.orgId }))
      .header('etag', etagFor(detail.customer.version));
    return detail;
  });

  route(app, endpoints['customers.update'], async ({ params, body, version }, req, reply) => {
    const outcome = await store.updateCustomer(actorOf(req), requestContext(req), params.orgId, version, body.changes, body.reason, body.revertOf);
    return answerEdit(outcome, reply);
  });

  route(app, endpoints['customers.archive'], async ({ params, body, version }, req, reply) => {
    return answerEdit(await store.archiveCustomer(actorOf(req), requestContext(req), params.orgId, version, body.reason), reply);
  });

  route(app, endpoints['customers.unarchive'], async ({ params, body, version }, req, reply) =>
    answerEdit(await store.unarchiveCustomer(actorOf(req), requestContext(req), params.orgId, version, body.reason), reply),
  );

  route(app, endpoints['customers.usage'], async ({ params, query }, req) => {
    const { from, to } = usageRange(query.from, query.to);
    return store.usage(actorOf(req), requestContext(req), params.orgId, from, to);
  });

  route(app, endpoints['customers.predictions'], async ({ params }, req) => store.predictions(actorOf(req), requestContext(req), params.orgId));

  route(app, endpoints['customers.audit'], async ({ params, query }, req) =>
    store.customerAudit(actorOf(req), requestContext(req), params.orgId, query.cursor, query.limit),
  );

  route(app, endpoints['customers.access'], async ({ params, query }, req) =>
    store.customerAccess(actorOf(req), params.orgId, query.cursor, query.limit),
  );
}

/** The new record with its ETag, or 202 with the change request it waits in (the customer is unchanged). */
function answerEdit<T extends EditOutcome>(outcome: T, reply: FastifyReply): T {
  if ('changeRequest' in outcome) reply.code(202).header('location', pathFor(endpoints['changeRequests.get'], { id: outcome.changeRequest.id }));
  else reply.header('etag', etagFor(outcome.customer.version));
  return outcome;
}

function usageRange(from: string | undefined, to: string | undefined): { from: string; to: string } {
  const toDate = to ?? new Date().toISOString().slice(0, 10);
  const fromDate = from ?? new Date(Date.parse(toDate) - (USAGE_DEFAULT_DAYS - 1) * DAY_MS).toISOString().slice(0, 10);
  const span = (Date.parse(toDate) - Date.parse(fromDate)) / DAY_MS;
  if (span < 0) throw new HttpProblem(400, 'validation', '`from` must not be after `to`.');
  if (span > USAGE_MAX_DAYS) throw new HttpProblem(400, 'validation', `Ask for at most ${USAGE_MAX_DAYS} days at once.`);
  return { from: fromDate, to: toDate };
}
