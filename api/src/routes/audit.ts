// /v1/audit: the audit review of support leads: search, CSV export, and the
// verification of the hash chain.
import { Readable } from 'node:stream';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AuditPage, AuditQuery, AuditVerifyQuery, AuditVerifyResult } from '../../../shared/api';
import { AUDIT_CSV_COLUMNS, auditEventRows, csvRow } from '../csv';
import type { Actor, ParsedAuditQuery, Store } from '../db/store';
import { actorOf } from '../guard';
import { AUTHENTICATED_PROBLEMS, problems, type RouteDeps } from './common';

const REVIEWERS = ['support_lead'] as const;
const CSV_PAGE = 500;

export const auditRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, { store }) => {
  app.get('/v1/audit/events', {
    config: { access: REVIEWERS },
    schema: {
      summary: 'Search audit events, newest first',
      querystring: AuditQuery,
      response: { 200: AuditPage, ...problems(...AUTHENTICATED_PROBLEMS) },
    },
    handler: async (req) => store.auditEvents(actorOf(req), req.query),
  });

  app.get('/v1/audit/events.csv', {
    config: { access: REVIEWERS },
    schema: {
      summary: 'Export matching audit events as CSV (one row per changed field), streamed',
      querystring: AuditQuery.omit({ cursor: true, limit: true }),
      produces: ['text/csv'],
      response: { 200: z.string(), ...problems(...AUTHENTICATED_PROBLEMS) },
    },
    handler: async (req, reply) => {
      const actor = actorOf(req);
      const query: ParsedAuditQuery = { ...req.query, limit: CSV_PAGE };
      // The first page is read before answering, so a refusal is still a proper problem response.
      const first = await store.auditEvents(actor, query);
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="audit-${stamp}.csv"`)
        .header('cache-control', 'no-store');
      const stream = Readable.from(csvLines(store, actor, query, first));
      stream.on('error', (err) => req.log.error({ err }, 'audit CSV export failed after it started'));
      // Streams bypass the response serializer; the 200 schema documents the CSV text.
      return reply.send(stream as unknown as string);
    },
  });

  app.get('/v1/audit/verify', {
    config: { access: REVIEWERS },
    schema: {
      summary: 'Recompute the audit hash chain; ok, or the first event that does not match',
      querystring: AuditVerifyQuery,
      response: { 200: AuditVerifyResult, ...problems(...AUTHENTICATED_PROBLEMS) },
    },
    handler: async (req) => store.auditVerify(actorOf(req), req.query.from, req.query.to),
  });
};

async function* csvLines(store: Store, actor: Actor, query: ParsedAuditQuery, first: AuditPage): AsyncGenerator<string> {
  yield csvRow(AUDIT_CSV_COLUMNS);
  let page = first;
  for (;;) {
    let chunk = '';
    for (const event of page.items) chunk += auditEventRows(event);
    if (chunk) yield chunk;
    if (!page.nextCursor) return;
    page = await store.auditEvents(actor, { ...query, cursor: page.nextCursor });
  }
}
