// `npx tsx bench/audit-bench.ts`: what the audit trail's integrity costs at size.
// For each size, a scratch PostgreSQL database gets that many audit events (and a
// tenth as many access events) inserted directly as the owner, then it times, over
// the API's own store and signing key:
//   seal       linking every event into the chain (the API hashes each one)
//   checkpoint the first checkpoint (covering every access event)
//   next       a checkpoint after 1,000 more events and 1,000 more access events
//              (a busy minute on top of the trail)
//   verify     the whole trail, recomputed in the API from its rows
// A report, not a test.
//
//   AUDIT_BENCH_SIZES=100000,1000000 npx tsx bench/audit-bench.ts
import pg from 'pg';
import { openStore } from '../api/src/db/pg-store';
import { AuditTrail } from '../api/src/audit/trail';
import { createTestAudit } from '../testing/audit';
import { actors, createScratchDatabase } from '../testing/db';

const SIZES = (process.env.AUDIT_BENCH_SIZES ?? '100000,1000000').split(',').map(Number);

/** Inserts n events and n/10 access events as the owner (what the API's writes would have left). */
async function seed(admin: pg.Client, events: number, access: number): Promise<void> {
  await admin.query('BEGIN');
  await admin.query('SET LOCAL ROLE cims_owner');
  await admin.query(
    `INSERT INTO audit.events (actor_sub, actor_name, actor_roles, action, entity_type, entity_id, changes, reason,
                               request_id, client_address, app_version)
     SELECT 'alice', 'Alice Adams', ARRAY['crm'], 'customer.update', 'customer', 'ORG-' || lpad((g % 100000)::text, 6, '0'),
            jsonb_build_array(jsonb_build_object('field', 'userCount', 'before', g, 'after', g + 1)),
            'Customer added seats', 'bench-' || g, '10.0.0.1', '0.1.0'
       FROM generate_series(1, $1::integer) g`,
    [events],
  );
  await admin.query(
    `INSERT INTO audit.access_events (actor_sub, actor_name, actor_roles, kind, entity_type, entity_id, request_id,
                                      client_address, app_version)
     SELECT 'bob', 'Bob Brown', ARRAY['support_lead'], 'customer.read', 'customer', 'ORG-' || lpad((g % 100000)::text, 6, '0'),
            'bench-read-' || g, '10.0.0.2', '0.1.0'
       FROM generate_series(1, $1::integer) g`,
    [access],
  );
  await admin.query('COMMIT');
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const out = await fn();
  return [out, (performance.now() - start) / 1000];
}

const rows: Record<string, string | number>[] = [];
for (const size of SIZES) {
  const db = await createScratchDatabase('cims_audit_bench');
  const admin = new pg.Client({ connectionString: db.adminUrl });
  await admin.connect();
  const store = await openStore({ databaseUrl: db.apiUrl, sealIntervalMs: 0, poolSize: 2 });
  const audit = createTestAudit();
  const trail = new AuditTrail(store.audit, audit.config);
  try {
    const [, seeding] = await timed(() => seed(admin, size, size / 10));
    const [sealed, seal] = await timed(() => store.sealAudit());
    const [first, checkpoint] = await timed(() => trail.checkpointNow());
    await seed(admin, 1_000, 1_000);
    const [second, next] = await timed(() => trail.checkpointNow());
    const [result, verify] = await timed(() => trail.verify(actors.bob));
    if (sealed !== size || first.status !== 'signed' || second.status !== 'signed' || !result.ok) {
      throw new Error(`unexpected: sealed ${sealed}, ${first.status}, ${second.status}, ${JSON.stringify(result)}`);
    }
    const { rows: sizeRows } = await admin.query<{ mb: string }>('SELECT round(pg_database_size(current_database()) / 1e6) AS mb');
    rows.push({
      events: size,
      accessEvents: size / 10,
      'seed s': seeding.toFixed(1),
      'seal s': seal.toFixed(2),
      'checkpoint s': checkpoint.toFixed(2),
      'next s': next.toFixed(3),
      'verify s': verify.toFixed(2),
      'verify events/s': Math.round((result.checked + result.accessChecked) / verify),
      'db MB': sizeRows[0]?.mb ?? '?',
    });
    console.log(JSON.stringify(rows.at(-1)));
  } finally {
    await trail.stop();
    await store.close();
    await admin.end();
    await db.drop();
    audit.cleanup();
  }
}
console.table(rows);
