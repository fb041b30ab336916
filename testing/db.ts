// A fresh PostgreSQL database per test file: created from TEST_DATABASE_ADMIN_URL
// with a random name, migrated, dropped afterwards. Gives the superuser client
// (for looking at rows and seeding), the cims_api connection string and a store
// over it. Seed helpers write fixtures straight into core tables as the owner
// role: they are test data, not API writes, so they record no audit event.
//
//   let t: TestDatabase;
//   beforeAll(async () => { t = await createTestDatabase(); });
//   afterAll(() => t?.drop());
//   await seedCustomer(t.admin, { orgId: 'ORG-000001', ownerSub: 'alice', ownerName: 'Alice' });
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate } from '../api/src/db/migrate';
import { openStore, type PgStore } from '../api/src/db/pg-store';
import { AuditTrail } from '../api/src/audit/trail';
import { createTestAudit, type TestAudit } from './audit';
import type { Actor, RequestContext } from '../api/src/db/store';
import type { CustomerFields, PredictionKind } from '../shared/api';

/** The test CA scripts/setup-system.sh makes for the test cluster (PGSSLROOTCERT elsewhere). */
export const TEST_CA_FILE = process.env.PGSSLROOTCERT ?? '/etc/ssl/cims-pg-test/ca.crt';

// Over TLS with the server's certificate and name checked, as production connects (docs/operating.md);
// the query string carries over to every URL derived from this one (urlFor).
export const ADMIN_URL =
  process.env.TEST_DATABASE_ADMIN_URL ??
  `postgres://postgres@127.0.0.1:5432/postgres?sslmode=verify-full&sslrootcert=${encodeURIComponent(TEST_CA_FILE)}`;

export interface TestDatabase {
  /** The database's name (cims_test_<random>). */
  name: string;
  /** Superuser connection string to this database. */
  adminUrl: string;
  /** The API's connection string to this database (role cims_api). */
  apiUrl: string;
  /** Connected superuser client to this database. */
  admin: pg.Client;
  /** Store over `apiUrl`. Background sealing is off unless asked: tests seal with `store.sealAudit()`. */
  store: PgStore;
  /** A throwaway signing key and checkpoint sink, and the trail over the store that uses them (no background rounds). */
  audit: TestAudit;
  trail: AuditTrail;
  /** Closes the store and the client, and drops the database. */
  drop(): Promise<void>;
}

/** `base` with another database (and user, without a password). */
export function urlFor(base: string, database: string, user?: string): string {
  const u = new URL(base);
  u.pathname = `/${database}`;
  if (user !== undefined) {
    u.username = user;
    u.password = '';
  }
  return u.toString();
}

/** Runs one statement on the server of ADMIN_URL (CREATE or DROP DATABASE), on a connection of its own. */
export async function onServer(sql: string): Promise<void> {
  const server = new pg.Client({ connectionString: ADMIN_URL });
  await server.connect();
  try {
    await server.query(sql);
  } finally {
    await server.end();
  }
}

export interface ScratchDatabase {
  name: string;
  /** Superuser connection string to this database. */
  adminUrl: string;
  /** The API's connection string to this database (role cims_api). */
  apiUrl: string;
  /** Drops the database, ending any connection still open to it. */
  drop(): Promise<void>;
}

/** A new, migrated database named `<prefix>_<random hex>` on the server of ADMIN_URL (tests and benchmarks). */
export async function createScratchDatabase(prefix: string): Promise<ScratchDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  // Identifiers cannot be parameters; the name is a fixed prefix and hex digits only.
  await onServer(`CREATE DATABASE ${name}`);
  const adminUrl = urlFor(ADMIN_URL, name);
  await migrate(adminUrl);
  return {
    name,
    adminUrl,
    apiUrl: urlFor(ADMIN_URL, name, 'cims_api'),
    drop: () => onServer(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

/**
 * `approvalRules`: 'seeded' keeps the rules migration 008 seeds (contract value, currency, number of
 * users, archive and un-archive need a second person); 'none' (the default) empties the rules table
 * as its owner may, so tests of editing in general see every edit apply at once. Tests of four eyes,
 * the authorization matrix and the fuzzer ask for 'seeded'.
 */
export async function createTestDatabase(
  opts: { sealIntervalMs?: number; poolSize?: number; approvalRules?: 'seeded' | 'none' } = {},
): Promise<TestDatabase> {
  const { name, adminUrl, apiUrl, drop: dropDatabase } = await createScratchDatabase('cims_test');
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  if ((opts.approvalRules ?? 'none') === 'none') await admin.query('DELETE FROM core.approval_rules');
  const store = await openStore({ databaseUrl: apiUrl, sealIntervalMs: opts.sealIntervalMs ?? 0, poolSize: opts.poolSize ?? 4 });
  const audit = createTestAudit();
  const trail = new AuditTrail(store.audit, audit.config);

  let dropped = false;
  return {
    name,
    adminUrl,
    apiUrl,
    admin,
    store,
    audit,
    trail,
    async drop() {
      if (dropped) return;
      dropped = true;
      await trail.stop();
      await store.close().catch(() => undefined);
      audit.cleanup();
      await admin.end().catch(() => undefined);
      await dropDatabase();
    },
  };
}

/** The record an edit, archive or un-archive applied; throws when it became a change request instead. */
export function applied<T extends object>(outcome: T): Exclude<T, { changeRequest: unknown }> {
  if ('changeRequest' in outcome) throw new Error('the change waits for approval: it was not applied');
  return outcome as Exclude<T, { changeRequest: unknown }>;
}

/** The demo people and the model runner, as the API would pass them to the store. */
export const actors = {
  alice: { sub: 'alice', name: 'Alice Adams', roles: ['crm'], scopes: ['openid'] },
  carol: { sub: 'carol', name: 'Carol Chen', roles: ['crm'], scopes: ['openid'] },
  bob: { sub: 'bob', name: 'Bob Brown', roles: ['support_lead'], scopes: ['openid'] },
  erin: { sub: 'erin', name: 'Erin Evans', roles: ['admin'], scopes: ['openid'] },
  modelRunner: { sub: 'cims-model-runner', name: 'cims-model-runner', roles: [], scopes: ['predictions:write'] },
} satisfies Record<string, Actor>;

let requestCounter = 0;
/** A request context with a fresh request id. */
export function testContext(overrides: Partial<RequestContext> = {}): RequestContext {
  requestCounter += 1;
  return { requestId: `test-${requestCounter}`, clientAddress: '127.0.0.1', appVersion: '0.1.0-test', ...overrides };
}

/** Valid customer fields; override what the test cares about. */
export function customerFields(overrides: Partial<CustomerFields> = {}): CustomerFields {
  return {
    orgName: 'Acme Logistics',
    contactName: 'Jordan Lee',
    contactEmail: 'jordan.lee@acme.example',
    contactPhone: '+1 555 0100',
    userCount: 120,
    contractValueCents: 4_800_000,
    currency: 'EUR',
    renewalDate: '2027-03-31',
    ...overrides,
  };
}

type Queryable = Pick<pg.Client, 'query'>;

/** Runs `fn` in a transaction as the owner role (which owns the tables), as a superuser client may. */
async function asOwner<T>(admin: Queryable, fn: () => Promise<T>): Promise<T> {
  await admin.query('BEGIN');
  try {
    await admin.query('SET LOCAL ROLE cims_owner');
    const out = await fn();
    await admin.query('COMMIT');
    return out;
  } catch (err) {
    await admin.query('ROLLBACK');
    throw err;
  }
}

export interface SeedCustomer extends Partial<CustomerFields> {
  orgId: string;
  ownerSub: string;
  ownerName?: string;
  status?: 'active' | 'archived';
  latestChurnRisk?: number | null;
}

/** Inserts a customer owned by `ownerSub` (version 1). No audit event: this is a fixture. */
export async function seedCustomer(admin: Queryable, c: SeedCustomer): Promise<{ orgId: string; version: number }> {
  const f = customerFields(c);
  await asOwner(admin, () =>
    admin.query(
      `INSERT INTO core.customers (org_id, org_name, contact_name, contact_email, contact_phone, user_count,
         contract_value_cents, currency, renewal_date, owner_sub, owner_name, status, latest_churn_risk)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      [
        c.orgId,
        f.orgName,
        f.contactName,
        f.contactEmail,
        f.contactPhone,
        f.userCount,
        f.contractValueCents,
        f.currency,
        f.renewalDate,
        c.ownerSub,
        c.ownerName ?? c.ownerSub,
        c.status ?? 'active',
        c.latestChurnRisk ?? null,
      ],
    ),
  );
  return { orgId: c.orgId, version: 1 };
}

/** Adds a billing method (processor token + masked details only). */
export async function seedBilling(
  admin: Queryable,
  orgId: string,
  b: { brand?: string; last4?: string; expMonth?: number; expYear?: number; email?: string } = {},
): Promise<void> {
  await asOwner(admin, () =>
    admin.query(
      `INSERT INTO core.billing_methods (org_id, processor_token, brand, last4, exp_month, exp_year, billing_email)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [orgId, `tok_${randomBytes(8).toString('hex')}`, b.brand ?? 'visa', b.last4 ?? '4242', b.expMonth ?? 12, b.expYear ?? 2030, b.email ?? 'billing@example.com'],
    ),
  );
}

/** Adds `days` days of usage ending today. */
export async function seedUsage(admin: Queryable, orgId: string, days: number, activeUsers = 50): Promise<void> {
  await asOwner(admin, () =>
    admin.query(
      `INSERT INTO core.usage_daily (org_id, day, active_users, sessions, feature_events)
       SELECT $1, current_date - g, $3, $3 * 3, $3 * 10 FROM generate_series(0, $2 - 1) g`,
      [orgId, days, activeUsers],
    ),
  );
}

/** Adds a prediction and, for churn risk, updates the customer's latest churn risk as ingestion does. */
export async function seedPrediction(
  admin: Queryable,
  p: { orgId: string; kind?: PredictionKind; score: number; scoredAt?: string; modelName?: string; modelVersion?: string },
): Promise<void> {
  const kind = p.kind ?? 'churn_risk';
  const scoredAt = p.scoredAt ?? new Date().toISOString();
  await asOwner(admin, async () => {
    await admin.query(
      `INSERT INTO core.predictions (org_id, model_name, model_version, kind, score, top_factors, scored_at)
       VALUES ($1, $2, $3, $4, $5, '[{"factor":"usage_trend","weight":0.4}]', $6)`,
      [p.orgId, p.modelName ?? 'churn-gbm', p.modelVersion ?? '1.0.0', kind, p.score, scoredAt],
    );
    if (kind === 'churn_risk') {
      await admin.query(
        `UPDATE core.customers SET latest_churn_risk = $2, latest_churn_scored_at = $3
          WHERE org_id = $1 AND (latest_churn_scored_at IS NULL OR latest_churn_scored_at <= $3)`,
        [p.orgId, p.score, scoredAt],
      );
    }
  });
}

/** The customer's row as stored (snake_case columns), or undefined. */
export async function customerRow(admin: Queryable, orgId: string): Promise<Record<string, unknown> | undefined> {
  const r = await admin.query<Record<string, unknown>>('SELECT * FROM core.customers WHERE org_id = $1', [orgId]);
  return r.rows[0];
}

/** Audit events about one customer (oldest first), as stored. */
export async function auditEventsFor(admin: Queryable, orgId: string): Promise<Record<string, unknown>[]> {
  const r = await admin.query<Record<string, unknown>>(
    `SELECT * FROM audit.events WHERE entity_type = 'customer' AND entity_id = $1 ORDER BY id`,
    [orgId],
  );
  return r.rows;
}

/** Number of audit events in total. */
export async function auditEventCount(admin: Queryable): Promise<number> {
  const r = await admin.query<{ n: string }>('SELECT count(*) AS n FROM audit.events');
  return Number(r.rows[0]?.n ?? 0);
}

/** Access events (reads of customer records) for one customer, oldest first. */
export async function accessEventsFor(admin: Queryable, orgId: string): Promise<Record<string, unknown>[]> {
  const r = await admin.query<Record<string, unknown>>(
    `SELECT * FROM audit.access_events WHERE entity_type = 'customer' AND entity_id = $1 ORDER BY id`,
    [orgId],
  );
  return r.rows;
}
