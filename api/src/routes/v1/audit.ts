// /v1/audit: the audit review of support leads: search, CSV export, and the
// verification of the hash chain.
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { AuditPage } from '../../../../shared/api';
import { endpoints } from '../../../../shared/http';
import { AUDIT_CSV_COLUMNS, auditEventRows, csvRow } from '../../csv';
import type { Actor, ParsedAuditQuery, Store } from '../../db/store';
import { actorOf } from '../../plugins/auth';
import { route } from '../route';

const CSV_PAGE = 500;

export async function auditRoutes(app: FastifyInstance): Promise<void> {
  const { store } = app;

  route(app, endpoints['audit.events'], async ({ query }, req) => store.auditEvents(actorOf(req), query));

  route(app, endpoints['audit.exportCsv'], async ({ query: filters }, req, reply) => {
    const actor = actorOf(req);
    const query: ParsedAuditQuery = { ...filters, limit: CSV_PAGE };
    // The first page is read before answering, so a refusal is still a proper problem response.
    const first = await store.auditEvents(actor, query);
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="audit-${stamp}.csv"`)
      .header('cache-control', 'no-store');
    const stream = Readable.from(csvLines(store, actor, query, first));
    stream.on('error', (err) => req.log.error({ err }, 'audit CSV export failed after it started'));
    return stream;
  });

  route(app, endpoints['audit.verify'], async ({ query }, req) => store.auditVerify(actorOf(req), query.from, query.to));
}

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
