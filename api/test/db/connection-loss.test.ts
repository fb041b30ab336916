// When the database goes away (restart, failover, crash): an idle pooled
// connection that breaks must not end the API process, the next call gets a new
// connection, and calls that cannot reach the database are answered 503 (retry
// later), never 500. faults/database-restart.test.ts runs the whole story on a
// real cluster that is stopped and started.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { buildApp } from '../../src/app';
import { openStore, toStoreError } from '../../src/db/pg-store';
import { StoreError } from '../../src/db/store';
import { createTestAudit } from '../../../testing/audit';
import { createScratchDatabase, type ScratchDatabase } from '../../../testing/db';
import { startTestIssuer, type TestIssuer } from '../../../testing/issuer';

const closedPort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });

describe('losing the database connection', () => {
  let db: ScratchDatabase;
  let issuer: TestIssuer;
  beforeAll(async () => {
    db = await createScratchDatabase('cims_test');
    issuer = await startTestIssuer();
  });
  afterAll(async () => {
    await issuer?.close();
    await db?.drop();
  });

  it('an idle connection killed by the server is replaced, and the process keeps running', async () => {
    const broken: Error[] = [];
    const store = await openStore({ databaseUrl: db.apiUrl, sealIntervalMs: 0, onIdleConnectionError: (e) => broken.push(e) });
    try {
      await store.ping();
      const admin = new pg.Client({ connectionString: db.adminUrl });
      await admin.connect();
      // As a restart does: the server ends the (idle) backend of the API's pool.
      const killed = await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND usename = 'cims_api'`, [db.name]);
      await admin.end();
      expect(killed.rowCount).toBeGreaterThan(0);
      for (let i = 0; i < 100 && broken.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(broken.length).toBeGreaterThan(0);
      await expect(store.ping()).resolves.toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it('a call that cannot reach the database is a StoreError unavailable, answered 503 with Retry-After', async () => {
    const store = await openStore({ databaseUrl: `postgres://cims_api@127.0.0.1:${await closedPort()}/nowhere`, sealIntervalMs: 0 });
    const audit = createTestAudit();
    const app = await buildApp({ store, audit: audit.config, issuer: issuer.url, logger: false });
    try {
      await expect(store.ping()).rejects.toMatchObject({ kind: 'unavailable' });
      const token = await issuer.sign({ sub: 'alice', name: 'Alice', roles: ['crm'], scope: 'openid api' });
      const res = await app.inject({ method: 'GET', url: '/v1/customers/ORG-000001', headers: { authorization: `Bearer ${token}` } });
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.json()).toMatchObject({ type: 'urn:cims:problem:database-unavailable', status: 503 });
      expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
    } finally {
      await app.close();
      await store.close();
      audit.cleanup();
    }
  });

  it('maps connection failures (and only those) to unavailable', () => {
    const kind = (e: unknown) => (toStoreError(e) instanceof StoreError ? (toStoreError(e) as StoreError).kind : null);
    expect(kind(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))).toBe('unavailable');
    expect(kind(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }))).toBe('unavailable');
    expect(kind(Object.assign(new Error('the database system is starting up'), { code: '57P03' }))).toBe('unavailable');
    expect(kind(Object.assign(new Error('connection failure'), { code: '08006' }))).toBe('unavailable');
    expect(kind(new Error('Connection terminated unexpectedly'))).toBe('unavailable');
    expect(kind(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe('duplicate');
    expect(kind(new Error('something else'))).toBeNull();
  });
});
