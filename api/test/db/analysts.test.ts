// Data scientists' personal logins (api/src/analysts/) and the de-identified
// views they read (migration 011), tested by connecting as a granted analyst
// with the printed password over TCP. The system PostgreSQL here may trust
// 127.0.0.1 (then any password is accepted): the test says which method the
// server uses, and where it is trust it proves the boundary by the role's
// attributes, memberships and grants, the stored SCRAM verifier of the printed
// password, and that a revoked login no longer exists to log in as; the
// password itself is checked against a server that asks for it in
// analysts-password.test.ts.
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, seedBilling, seedCustomer, seedPrediction, seedUsage, urlFor, type TestDatabase } from '../../../testing/db';
import { CONNECTION_LIMIT, grantAnalyst, listAnalysts, revokeAnalyst, roleFor, scramVerifier } from '../../src/analysts/analysts';

let t: TestDatabase;
const name = `t${randomBytes(5).toString('hex')}`;
const role = roleFor(name);
let password = '';

const ORGS = [
  { orgId: 'ORG-000101', orgName: 'Quillon Freight', contactName: 'Marta Quist', contactEmail: 'marta.quist@quillon.example', contactPhone: '+44 20 7946 0101' },
  { orgId: 'ORG-000102', orgName: 'Bexley Dental', contactName: 'Oskar Brandt', contactEmail: 'oskar@bexley.example', contactPhone: '+49 30 901820' },
];

function analystUrl(pw: string): string {
  const u = new URL(urlFor(t.adminUrl, t.name, role));
  u.hostname = '127.0.0.1';
  u.password = pw;
  return u.toString();
}

async function asAnalyst<T>(fn: (c: pg.Client) => Promise<T>, pw = password): Promise<T> {
  const c = new pg.Client({ connectionString: analystUrl(pw) });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

const refusal = (c: pg.Client, sql: string) => c.query(sql).then(() => null, (e: { code?: string }) => e.code);

beforeAll(async () => {
  t = await createTestDatabase();
  for (const o of ORGS) {
    await seedCustomer(t.admin, { ...o, ownerSub: 'alice', ownerName: 'Alice Adams' });
    await seedBilling(t.admin, o.orgId, { email: `billing@${o.contactEmail.split('@')[1]}` });
    await seedUsage(t.admin, o.orgId, 10);
    await seedPrediction(t.admin, { orgId: o.orgId, score: 0.4 });
  }
  await t.admin.query('BEGIN');
  await t.admin.query('SET LOCAL ROLE cims_owner');
  await t.admin.query(`INSERT INTO core.customer_outcomes (org_id, decided_on, outcome, seats_before, seats_after)
                       VALUES ('ORG-000101', '2026-06-30', 'renewed', 100, 120), ('ORG-000102', '2026-07-31', 'churned', 40, 0)`);
  await t.admin.query(`INSERT INTO core.prediction_feedback (prediction_id, org_id, model_name, model_version, kind, score, verdict, reason, actor_sub, actor_name)
                       SELECT id, org_id, model_name, model_version, kind, score, 'looks_wrong', 'They just signed a three-year deal', 'alice', 'Alice Adams'
                         FROM core.predictions WHERE org_id = 'ORG-000101'`);
  await t.admin.query('COMMIT');
  password = (await grantAnalyst(t.admin, name)).password;
});
afterAll(async () => {
  await revokeAnalyst(t.admin, name).catch(() => undefined);
  await t?.drop();
});

const VIEWS = ['customers', 'usage_daily', 'predictions', 'outcomes', 'prediction_feedback'] as const;

describe('an analyst login', () => {
  it('is a login of its own in cims_analyst, with a connection limit, time limits and no other privilege', async () => {
    const { rows } = await t.admin.query(
      `SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolinherit, rolconnlimit,
              (SELECT array_agg(m.roleid::regrole::text) FROM pg_auth_members m WHERE m.member = r.oid) AS member_of,
              (SELECT setconfig FROM pg_db_role_setting s WHERE s.setrole = r.oid AND s.setdatabase = 0) AS settings,
              (SELECT count(*)::int FROM information_schema.role_table_grants g WHERE g.grantee = r.rolname) AS table_grants,
              (SELECT count(*)::int FROM information_schema.role_routine_grants g WHERE g.grantee = r.rolname) AS routine_grants
         FROM pg_roles r WHERE rolname = $1`,
      [role],
    );
    expect(rows[0]).toEqual({
      rolcanlogin: true, rolsuper: false, rolcreatedb: false, rolcreaterole: false, rolreplication: false, rolbypassrls: false,
      rolinherit: true, rolconnlimit: CONNECTION_LIMIT, member_of: ['cims_analyst'],
      settings: expect.arrayContaining(['statement_timeout=5min', 'lock_timeout=10s', 'idle_in_transaction_session_timeout=10min']),
      table_grants: 0, routine_grants: 0,
    });
    const settings = await asAnalyst(async (c) => (await c.query<{ s: string }>("SELECT current_setting('statement_timeout') AS s")).rows[0]!.s);
    expect(settings).toBe('5min');
    expect((await listAnalysts(t.admin)).map((l) => l.role)).toContain(role);
  });

  it('has the printed password stored as its SCRAM-SHA-256 verifier, and password auth refuses another where the server asks for one', async () => {
    const stored = (await t.admin.query<{ p: string }>('SELECT rolpassword AS p FROM pg_authid WHERE rolname = $1', [role])).rows[0]!.p;
    const m = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/.exec(stored);
    expect(m).not.toBeNull();
    const [, iterations, salt, storedKey] = m!;
    const salted = pbkdf2Sync(password, Buffer.from(salt!, 'base64'), Number(iterations), 32, 'sha256');
    const clientKey = createHmac('sha256', salted).update('Client Key').digest();
    expect(createHash('sha256').update(clientKey).digest('base64')).toBe(storedKey);
    expect(scramVerifier(password, Buffer.from(salt!, 'base64'), Number(iterations))).toBe(stored);

    const method = (await t.admin.query<{ m: string }>(
      `SELECT auth_method AS m FROM pg_hba_file_rules
        WHERE type IN ('host', 'hostssl') AND (address IN ('all', '127.0.0.1', 'samehost') OR ('127.0.0.1'::inet <<= address::inet AND netmask IS NULL))
        ORDER BY line_number LIMIT 1`,
    ).catch(() => ({ rows: [{ m: 'unknown' }] }))).rows[0]?.m ?? 'unknown';
    console.info(`127.0.0.1 authenticates with: ${method}`);
    expect(await asAnalyst(async (c) => (await c.query<{ u: string }>('SELECT current_user AS u')).rows[0]!.u)).toBe(role);
    if (method === 'scram-sha-256' || method === 'md5') {
      await expect(asAnalyst(async () => undefined, 'not-the-password')).rejects.toMatchObject({ code: '28P01' });
    }
  });

  it('reads every analytics view, and nothing of core, audit, api or the model input', async () => {
    await asAnalyst(async (c) => {
      for (const v of VIEWS) expect((await c.query(`SELECT count(*)::int AS n FROM analytics.${v}`)).rows[0].n).toBeGreaterThan(0);
      for (const sql of [
        'SELECT * FROM core.customers', 'SELECT * FROM core.billing_methods', 'SELECT * FROM core.pseudonym_key',
        'SELECT * FROM core.org_pseudonyms', 'SELECT * FROM audit.events', 'SELECT * FROM audit.access_events',
        'SELECT * FROM model_input.customers', "SELECT api.customer_read('[]'::jsonb)",
      ]) {
        expect([sql, await refusal(c, sql)]).toEqual([sql, expect.stringMatching(/^(42501|42883)$/)]);
      }
      // Nothing can be written, not even to the views.
      expect(await refusal(c, 'DELETE FROM analytics.customers')).toMatch(/^(42501|55000)$/);
      expect(await refusal(c, 'CREATE TABLE public.x (a int)')).toBe('42501');
    });
  });

  it('sees no name, contact, owner or billing detail, and a pseudonym in place of the org id, the same in every view', async () => {
    const dumps = await asAnalyst(async (c) => {
      const out: Record<string, string> = {};
      for (const v of VIEWS) out[v] = JSON.stringify((await c.query(`SELECT * FROM analytics.${v}`)).rows);
      return out;
    });
    const all = Object.values(dumps).join('\n');
    for (const o of ORGS) {
      for (const secret of [o.orgId, o.orgName, o.contactName, o.contactEmail, o.contactPhone, o.contactEmail.split('@')[1]!]) expect(all).not.toContain(secret);
    }
    for (const secret of ['alice', 'Alice Adams', '4242', 'tok_', 'billing@']) expect(all).not.toContain(secret);

    const pseudonyms = await asAnalyst(async (c) => {
      const of = async (v: string) => new Set((await c.query<{ p: string }>(`SELECT DISTINCT pseudonym AS p FROM analytics.${v}`)).rows.map((r) => r.p));
      return { customers: await of('customers'), usage: await of('usage_daily'), predictions: await of('predictions'), outcomes: await of('outcomes') };
    });
    expect(pseudonyms.customers.size).toBe(2);
    expect(pseudonyms.usage).toEqual(pseudonyms.customers);
    expect(pseudonyms.predictions).toEqual(pseudonyms.customers);
    expect(pseudonyms.outcomes).toEqual(pseudonyms.customers);

    // The pseudonym is HMAC-SHA-256 of the org id under the key the analyst cannot read (recovered here as a superuser).
    const { ipad } = (await t.admin.query<{ ipad: Buffer }>('SELECT ipad FROM core.pseudonym_key')).rows[0]!;
    const key = Buffer.from(ipad.map((b) => b ^ 0x36));
    for (const o of ORGS) {
      const expected = `p_${createHmac('sha256', key).update(o.orgId).digest('hex').slice(0, 24)}`;
      expect(pseudonyms.customers.has(expected)).toBe(true);
    }
  });

  it('sees renewal as a month, outcomes with their dates and the feedback without who gave it', async () => {
    const rows = await asAnalyst(async (c) => ({
      customers: (await c.query("SELECT to_char(renewal_month, 'YYYY-MM-DD') AS m FROM analytics.customers")).rows,
      outcomes: (await c.query("SELECT outcome, to_char(decided_on, 'YYYY-MM-DD') AS d, seats_before, seats_after FROM analytics.outcomes ORDER BY decided_on")).rows,
      feedback: (await c.query('SELECT * FROM analytics.prediction_feedback')).rows,
    }));
    expect(rows.customers.every((r: { m: string }) => r.m.endsWith('-01'))).toBe(true);
    expect(rows.outcomes).toEqual([
      { outcome: 'renewed', d: '2026-06-30', seats_before: 100, seats_after: 120 },
      { outcome: 'churned', d: '2026-07-31', seats_before: 40, seats_after: 0 },
    ]);
    expect(rows.feedback).toHaveLength(1);
    expect(Object.keys(rows.feedback[0])).toEqual(['pseudonym', 'model_name', 'model_version', 'kind', 'score', 'verdict', 'reason', 'given_on']);
  });
});

describe('the model job role', () => {
  it('reads org ids, figures and outcomes from model_input, and no contact data', async () => {
    const c = new pg.Client({ connectionString: urlFor(t.adminUrl, t.name, 'cims_model') });
    await c.connect();
    try {
      const cols = (await c.query('SELECT * FROM model_input.customers ORDER BY org_id')).fields.map((f) => f.name);
      expect(cols).toEqual(['org_id', 'status', 'user_count', 'contract_value_cents', 'currency', 'renewal_date', 'created_on']);
      expect((await c.query('SELECT count(*)::int AS n FROM model_input.outcomes')).rows[0].n).toBe(2);
      expect(await refusal(c, 'SELECT * FROM core.customers')).toBe('42501');
      expect(await refusal(c, 'SELECT * FROM analytics.customers')).toBe('42501');
      expect(await refusal(c, 'SELECT * FROM core.pseudonym_key')).toBe('42501');
    } finally {
      await c.end();
    }
  });
});

describe('revoking an analyst login', () => {
  it('ends its open session and it cannot connect again', async () => {
    const open = new pg.Client({ connectionString: analystUrl(password) });
    await open.connect();
    open.on('error', () => undefined);
    await revokeAnalyst(t.admin, name);
    await expect(open.query('SELECT 1')).rejects.toThrow();
    await open.end().catch(() => undefined);
    await expect(asAnalyst(async () => undefined)).rejects.toMatchObject({ code: '28000' });
    expect((await t.admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).rowCount).toBe(0);
    expect((await listAnalysts(t.admin)).map((l) => l.role)).not.toContain(role);
  });

  it('refuses a name that is not an analyst name, and a role that is not an analyst login', async () => {
    expect(() => roleFor('Robert"; DROP')).toThrow(/not an analyst name/);
    await expect(revokeAnalyst(t.admin, 'nobody_here')).rejects.toMatchObject({ code: 'CA404' });
  });
});
