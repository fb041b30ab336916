// GET /v1/audit/evidence: the evidence bundle for auditors (shared/evidence.ts,
// docs/audit-evidence.md), streamed as it is read.
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { EVIDENCE_CONTENT_TYPE } from '../../../../shared/evidence';
import { endpoints } from '../../../../shared/http';
import { startEvidence } from '../../audit/evidence';
import { actorOf, requestContext } from '../../plugins/auth';
import { route } from '../route';

export async function evidenceRoutes(app: FastifyInstance): Promise<void> {
  route(app, endpoints['audit.evidence'], async ({ query }, req, reply) => {
    // The segment and the access event are fixed before the first byte; a refusal is still a problem response.
    const bundle = await startEvidence(app.auditTrail, app.store.audit.call, actorOf(req), requestContext(req), query, (err) =>
      req.log.error({ err }, 'audit checkpoint before an evidence bundle failed'),
    );
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    reply
      .type(EVIDENCE_CONTENT_TYPE)
      .header('content-disposition', `attachment; filename="audit-evidence-${stamp}.ndjson"`)
      .header('cache-control', 'no-store');
    const stream = Readable.from(bundle.chunks);
    stream.on('error', (err) => req.log.error({ err }, 'evidence bundle failed after it started'));
    return stream;
  });
}
