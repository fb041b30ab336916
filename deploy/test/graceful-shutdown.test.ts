// What Kubernetes does to a pod at every rollout and scale-down: SIGTERM while requests are in
// flight. The server started from the image's files must stop taking new requests, let the
// in-flight edit (waiting in its database batch) finish and answer, write its audit event, and
// exit 0 within the pod's grace period. The edit is held in flight by a row lock a superuser
// takes on the customer, released after the signal.
import { mkdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ADMIN_URL, auditEventsFor, onServer, seedCustomer, urlFor } from '../../testing/db';
import { createTestAudit, type TestAudit } from '../../testing/audit';
import { startTestIssuer, type TestIssuer } from '../../testing/issuer';
import { waitFor } from '../../testing/processes';
import { layOutImage, startServer, type Image } from './image';

const ORG = 'ORG-000042';
let image: Image;
let issuer: TestIssuer;
let audit: TestAudit;
let admin: pg.Client;
const dbName = `cims_drain_${process.pid}_${Date.now()}`;

beforeAll(async () => {
  [image, issuer] = await Promise.all([layOutImage(), startTestIssuer()]);
  audit = createTestAudit();
  await onServer(`CREATE DATABASE ${dbName}`);
  const migrate = spawnSync(process.execPath, ['src/db/migrate-cli.js'], { cwd: image.appDir, env: { DATABASE_URL: urlFor(ADMIN_URL, dbName) }, encoding: 'utf8' });
  if (migrate.status !== 0) throw new Error(migrate.stderr);
  admin = new pg.Client({ connectionString: urlFor(ADMIN_URL, dbName) });
  await admin.connect();
  await seedCustomer(admin, { orgId: ORG, ownerSub: 'alice', ownerName: 'Alice Adams' });
  // cims_api's 2 s lock timeout (and 5 s statement timeout) would cut the held edit short on a slow
  // machine; in this scratch database only, it may wait longer. Identifiers: a fixed prefix and digits.
  await admin.query(`ALTER ROLE cims_api IN DATABASE ${dbName} SET lock_timeout = '30s'`);
  await admin.query(`ALTER ROLE cims_api IN DATABASE ${dbName} SET statement_timeout = '30s'`);
}, 240_000);
afterAll(async () => {
  await admin?.end().catch(() => undefined);
  await onServer(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await issuer?.close();
  audit?.cleanup();
  image?.cleanup();
});

it('on SIGTERM finishes the edit in flight, refuses new work, and exits 0', async () => {
  mkdirSync(audit.sinkDir, { recursive: true });
  const server = await startServer(image, {
    DATABASE_URL: urlFor(ADMIN_URL, dbName, 'cims_api'),
    ISSUER: issuer.url,
    ...audit.env,
  });
  const base = `http://127.0.0.1:${server.port}`;

  const token = await issuer.sign({ sub: 'alice', name: 'Alice Adams', roles: ['crm'] });
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const read = await fetch(`${base}/v1/customers/${ORG}`, { headers });
  expect(read.status).toBe(200);
  const etag = read.headers.get('etag')!;

  // Hold the row: the edit's batch waits on the lock until the superuser commits.
  await admin.query('BEGIN');
  await admin.query('SELECT 1 FROM core.customers WHERE org_id = $1 FOR UPDATE', [ORG]);
  const edit = fetch(`${base}/v1/customers/${ORG}`, {
    method: 'PATCH',
    headers: { ...headers, 'if-match': etag },
    body: JSON.stringify({ changes: { contactPhone: '+1 555 0142' }, reason: 'drain test' }),
  });
  await waitFor(async () => {
    const r = await admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = 'cims_api' AND wait_event_type = 'Lock'");
    return (r.rows[0] as { n: number }).n > 0;
  }, () => 'the edit never reached the database');

  server.process.kill('SIGTERM');
  await waitFor(() => /shutting down/.test(server.output()), () => `no shutdown logged:\n${server.output()}`);
  // Closing: no new connection is accepted while the edit is still held.
  await expect(fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1000) })).rejects.toThrow();
  expect(server.process.exitCode).toBeNull();
  await admin.query('COMMIT');

  const answer = await edit;
  expect(answer.status).toBe(200);
  expect(((await answer.json()) as { customer: { contactPhone: string } }).customer.contactPhone).toBe('+1 555 0142');
  const [code, signal] = await server.exited;
  expect({ code, signal }, server.output()).toEqual({ code: 0, signal: null });
  const events = await auditEventsFor(admin, ORG);
  expect(events.filter((e) => e.reason === 'drain test')).toHaveLength(1);
}, 120_000);
