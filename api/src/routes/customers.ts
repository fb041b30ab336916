// /v1/customers: search, read, create, edit, archive, and the per-customer
// usage, predictions and audit trail. Handlers only translate HTTP to store
// calls; the database functions authorize again and write the audit events.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  ArchiveRequest,
  AuditPage,
  CustomerCreate,
  CustomerDetail,
  CustomerListPage,
  CustomerListQuery,
  CustomerPatch,
  Prediction,
  UsageDay,
  UsageQuery,
  etagFor,
} from '../../../shared/api';
import { actorOf, requestContext } from '../guard';
import { HttpProblem } from '../problem';
import { AUTHENTICATED_PROBLEMS, OrgParams, expectedVersion, problems, type RouteDeps } from './common';

const READERS = ['crm', 'support_lead', 'admin'] as const;

export const CustomerAuditQuery = z.strictObject({
  cursor: z.string().max(500).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

const DAY_MS = 86_400_000;
const USAGE_DEFAULT_DAYS = 90;
const USAGE_MAX_DAYS = 3 * 366;

export const customerRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, { store }) => {
  app.get('/v1/customers', {
    config: { access: READERS },
    schema: {
      summary: 'Search customers (archived ones only with includeArchived=true)',
      querystring: CustomerListQuery,
      response: { 200: CustomerListPage, ...problems(...AUTHENTICATED_PROBLEMS) },
    },
    handler: async (req) => store.searchCustomers(actorOf(req), req.query),
  });

  app.get('/v1/customers/:orgId', {
    config: { access: READERS },
    schema: {
      summary: 'The whole customer record (billing masked); records an access event',
      params: OrgParams,
      response: { 200: CustomerDetail, ...problems(...AUTHENTICATED_PROBLEMS, 404) },
    },
    handler: async (req, reply) => {
      const detail = await store.getCustomer(actorOf(req), requestContext(req), req.params.orgId);
      reply.header('etag', etagFor(detail.customer.version)).header('cache-control', 'no-store');
      return detail;
    },
  });

  app.post('/v1/customers', {
    config: { access: ['crm'] },
    schema: {
      summary: 'Create a customer, owned by the calling CRM; audited',
      body: CustomerCreate,
      response: { 201: CustomerDetail, ...problems(...AUTHENTICATED_PROBLEMS, 409, 413, 415) },
    },
    handler: async (req, reply) => {
      const detail = await store.createCustomer(actorOf(req), requestContext(req), req.body);
      return reply
        .code(201)
        .header('location', `/v1/customers/${detail.customer.orgId}`)
        .header('etag', etagFor(detail.customer.version))
        .send(detail);
    },
  });

  app.patch('/v1/customers/:orgId', {
    config: { access: ['crm'] },
    schema: {
      summary: 'Edit contact and contract fields of a customer you own; needs If-Match and a reason; audited',
      params: OrgParams,
      body: CustomerPatch,
      ifMatch: true,
      response: { 200: CustomerDetail, ...problems(...AUTHENTICATED_PROBLEMS, 404, 412, 413, 415, 428) },
    },
    handler: async (req, reply) => {
      const version = expectedVersion(req.headers['if-match']);
      const { changes, reason } = req.body;
      const detail = await store.updateCustomer(actorOf(req), requestContext(req), req.params.orgId, version, changes, reason);
      reply.header('etag', etagFor(detail.customer.version));
      return detail;
    },
  });

  app.post('/v1/customers/:orgId/archive', {
    config: { access: ['support_lead'] },
    schema: {
      summary: 'Archive a customer (hidden from search by default); needs If-Match and a reason; audited',
      params: OrgParams,
      body: ArchiveRequest,
      ifMatch: true,
      response: { 200: CustomerDetail, ...problems(...AUTHENTICATED_PROBLEMS, 404, 412, 413, 415, 428) },
    },
    handler: async (req, reply) => {
      const version = expectedVersion(req.headers['if-match']);
      const detail = await store.archiveCustomer(actorOf(req), requestContext(req), req.params.orgId, version, req.body.reason);
      reply.header('etag', etagFor(detail.customer.version));
      return detail;
    },
  });

  app.get('/v1/customers/:orgId/usage', {
    config: { access: READERS },
    schema: {
      summary: `Daily usage between from and to (default: the last ${USAGE_DEFAULT_DAYS} days)`,
      params: OrgParams,
      querystring: UsageQuery,
      response: { 200: z.array(UsageDay), ...problems(...AUTHENTICATED_PROBLEMS, 404) },
    },
    handler: async (req) => {
      const { from, to } = usageRange(req.query.from, req.query.to);
      return store.usage(actorOf(req), req.params.orgId, from, to);
    },
  });

  app.get('/v1/customers/:orgId/predictions', {
    config: { access: READERS },
    schema: {
      summary: 'Prediction history of a customer, newest first',
      params: OrgParams,
      response: { 200: z.array(Prediction), ...problems(...AUTHENTICATED_PROBLEMS, 404) },
    },
    handler: async (req) => store.predictions(actorOf(req), req.params.orgId),
  });

  app.get('/v1/customers/:orgId/audit', {
    config: { access: ['crm', 'support_lead'] },
    schema: {
      summary: 'Audit trail of one customer, newest first',
      params: OrgParams,
      querystring: CustomerAuditQuery,
      response: { 200: AuditPage, ...problems(...AUTHENTICATED_PROBLEMS, 404) },
    },
    handler: async (req) => store.customerAudit(actorOf(req), req.params.orgId, req.query.cursor, req.query.limit),
  });
};

function usageRange(from: string | undefined, to: string | undefined): { from: string; to: string } {
  const toDate = to ?? new Date().toISOString().slice(0, 10);
  const fromDate = from ?? new Date(Date.parse(toDate) - (USAGE_DEFAULT_DAYS - 1) * DAY_MS).toISOString().slice(0, 10);
  const span = (Date.parse(toDate) - Date.parse(fromDate)) / DAY_MS;
  if (span < 0) throw new HttpProblem(400, 'validation', '`from` must not be after `to`.');
  if (span > USAGE_MAX_DAYS) throw new HttpProblem(400, 'validation', `Ask for at most ${USAGE_MAX_DAYS} days at once.`);
  return { from: fromDate, to: toDate };
}
