// The audit trail's signer and verifier as a decoration: routes reach it through
// `app.auditTrail`. Checkpoints are signed in the background while the app runs,
// and the last round finishes before the app (and then its store) closes.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { AuditTrail, type AuditConfig } from '../audit/trail';
import type { Store } from '../db/store';

declare module 'fastify' {
  interface FastifyInstance {
    auditTrail: AuditTrail;
  }
}

export const auditTrailPlugin = fp<{ store: Store; audit: AuditConfig }>(
  async (app: FastifyInstance, { store, audit }) => {
    const trail = new AuditTrail(store.audit, audit, (err) => app.log.error({ err }, 'audit checkpoint failed; the next round retries'));
    app.decorate('auditTrail', trail);
    app.addHook('onReady', async () => trail.start());
    app.addHook('onClose', async () => trail.stop());
  },
  { name: 'cims-audit-trail', fastify: '5.x' },
);
