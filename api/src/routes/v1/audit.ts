// /v1/audit: the audit review of support leads: search, CSV export, the
// verification of the hash chain, and the review of the access log.
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { endpoints } from '../../../../shared/http';
import { ACCESS_CSV_COLUMNS, accessEventRow, AUDIT_CSV_COLUMNS, auditEventRows, csvRow } from '../../csv';
import { actorOf, requestContext } from '../../plugins/auth';
import { route } from '../route';

const CSV_PAGE = 500;

export async function auditRoutes(app: FastifyInstance): Promise<void> {
  const { store } = app;

  route(app, endpoints['audit.events'], async ({ query }, req) => store.auditEvents(actorOf(req), requestContext(req), query));

  route(app, endpoints['audit.exportCsv'], async ({ query: filters }, req, reply) => {
    const actor = actorOf(req);
    // Fixes the export's contents and records its access event (filter, counts) before the first
    // byte; a refusal is still a proper problem response.
    const started = await store.auditExport(actor, requestContext(req), filters);
    const next = (cursor: string) => store.auditExportPage(actor, cursor, CSV_PAGE);
    const first = started.cursor ? await next(started.cursor) : null;
    return csvStream(req, reply, 'audit', AUDIT_CSV_COLUMNS, first, auditEventRows, next);
  });

  // The whole trail, whatever from/to say (shared/api.ts AuditVerifyQuery).
  route(app, endpoints['audit.verify'], async (_input, req) => app.auditTrail.verify(actorOf(req)));

  route(app, endpoints['audit.checkpoint'], async ({ params }, req) => app.auditTrail.checkpoint(actorOf(req), Number(params.seq)));

  // Reviewing the access log records no access event: see api/sql/functions/access.sql.
  route(app, endpoints['audit.access'], async ({ query }, req) => store.accessEvents(actorOf(req), query));

  route(app, endpoints['audit.accessCsv'], async ({ query: filters }, req, reply) => {
    const actor = actorOf(req);
    const next = (cursor?: string) => store.accessEvents(actor, { ...filters, limit: CSV_PAGE, ...(cursor ? { cursor } : {}) });
    return csvStream(req, reply, 'access', ACCESS_CSV_COLUMNS, await next(), accessEventRow, next);
  });
}

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** A streamed CSV download: the header, then `first` and the pages after it, each page one chunk. */
function csvStream<T>(
  req: FastifyRequest,
  reply: FastifyReply,
  name: string,
  columns: readonly string[],
  first: Page<T> | null,
  rowsOf: (item: T) => string,
  nextPage: (cursor: string) => Promise<Page<T>>,
): Readable {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  reply
    .type('text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${name}-${stamp}.csv"`)
    .header('cache-control', 'no-store');
  async function* lines(): AsyncGenerator<string> {
    yield csvRow(columns);
    let page = first;
    while (page) {
      let chunk = '';
      for (const item of page.items) chunk += rowsOf(item);
      if (chunk) yield chunk;
      page = page.nextCursor ? await nextPage(page.nextCursor) : null;
    }
  }
  const stream = Readable.from(lines());
  stream.on('error', (err) => req.log.error({ err }, `${name} CSV export failed after it started`));
  return stream;
}
