// The checks every api.* function makes before it does anything, called over
// the API's own connection: the SQLSTATE and message for an invalid actor, a
// missing role, an invalid request context and a missing reason, and the order
// in which they are checked. The store maps these codes; the messages reach
// the HTTP problem details.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, seedCustomer, type TestDatabase } from '../../../testing/db';

let t: TestDatabase;
let api: pg.Client;
beforeAll(async () => {
  t = await createTestDatabase();
  await seedCustomer(t.admin, { orgId: 'ORG-000951', ownerSub: 'alice' });
  api = new pg.Client({ connectionString: t.apiUrl });
  await api.connect();
});
afterAll(async () => {
  await api?.end();
  await t?.drop();
});

type Actor = [sub: string, name: string, roles: string[], scopes: string[]];
interface Ctx {
  requestId: string;
  reason: string;
}

const good: Ctx = { requestId: 'req-1', reason: 'Checking the prologue' };
const ACTOR = '$1::text, $2::text, $3::text[], $4::text[]';

interface Case {
  fn: string;
  /** Roles that may call it; the first is used for the checks after the role. */
  allowed: string[];
  what: string;
  /** SQL after the actor's four parameters, and its values. */
  rest: string;
  values: (c: Ctx) => unknown[];
  /** Takes a request context and a reason (edits). */
  edit?: boolean;
  /** Takes a request context (reads that write an access event). */
  logged?: boolean;
}

const CTX = '$5::text, $6::text, $7::text';

const reads: Case[] = [
  {
    fn: 'customer_search',
    allowed: ['crm', 'support_lead', 'admin'],
    what: 'search customers',
    rest: `${CTX}, $8::text, $9::boolean, $10::integer, $11::double precision, $12::boolean, $13::text, $14::text, $15::text, $16::integer`,
    values: (c) => [c.requestId, '127.0.0.1', '0.1.0', null, false, null, null, false, 'name', null, null, 10],
    logged: true,
  },
  {
    fn: 'customer_usage',
    allowed: ['crm', 'support_lead', 'admin'],
    what: 'read usage',
    rest: `${CTX}, $8::text, $9::date, $10::date`,
    values: (c) => [c.requestId, '127.0.0.1', '0.1.0', 'ORG-000951', '2026-01-01', '2026-01-31'],
    logged: true,
  },
  {
    fn: 'portfolio_summary',
    allowed: ['crm'],
    what: 'read a portfolio',
    rest: '$5::double precision, $6::integer',
    values: () => [0.7, 30],
  },
  {
    fn: 'customer_predictions',
    allowed: ['crm', 'support_lead', 'admin'],
    what: 'read predictions',
    rest: `${CTX}, $8::text`,
    values: (c) => [c.requestId, '127.0.0.1', '0.1.0', 'ORG-000951'],
    logged: true,
  },
  {
    fn: 'customer_audit',
    allowed: ['crm', 'support_lead'],
    what: "read a customer's history",
    rest: `${CTX}, $8::text, $9::bigint, $10::integer`,
    values: (c) => [c.requestId, '127.0.0.1', '0.1.0', 'ORG-000951', null, 10],
    logged: true,
  },
  {
    fn: 'audit_export',
    allowed: ['support_lead'],
    what: 'review the audit trail',
    rest: `${CTX}, $8::text, $9::text, $10::text, $11::text, $12::timestamptz, $13::timestamptz`,
    values: (c) => [c.requestId, '127.0.0.1', '0.1.0', null, null, null, null, null, null],
    logged: true,
  },
  {
    fn: 'customer_access',
    allowed: ['support_lead'],
    what: 'review the access log',
    rest: '$5::text, $6::bigint, $7::integer',
    values: () => ['ORG-000951', null, 10],
  },
  {
    fn: 'access_events',
    allowed: ['support_lead'],
    what: 'review the access log',
    rest: '$5::text, $6::text, $7::timestamptz, $8::timestamptz, $9::bigint, $10::integer',
    values: () => [null, null, null, null, null, 10],
  },
  {
    fn: 'audit_events',
    allowed: ['support_lead'],
    what: 'review the audit trail',
    rest: `${CTX}, $8::text, $9::text, $10::text, $11::text, $12::timestamptz, $13::timestamptz, $14::bigint, $15::integer`,
    values: (c) => [c.requestId, '127.0.0.1', '0.1.0', null, null, null, null, null, null, null, 10],
    logged: true,
  },
  { fn: 'audit_verify_links', allowed: ['support_lead'], what: 'verify the audit trail', rest: '$5::bigint, $6::integer', values: () => [0, 10] },
  { fn: 'audit_verify_access', allowed: ['support_lead'], what: 'verify the audit trail', rest: '$5::bigint, $6::integer', values: () => [0, 10] },
  {
    fn: 'audit_evidence',
    allowed: ['support_lead'],
    what: 'export audit evidence',
    rest: `${CTX}, $8::timestamptz, $9::timestamptz, $10`,
    values: (c) => [c.requestId, '127.0.0.1', '0.1.0', null, null, null],
    logged: true,
  },
  {
    fn: 'audit_evidence_checkpoints',
    allowed: ['support_lead'],
    what: 'export audit evidence',
    rest: '$5::bigint, $6::bigint, $7::integer',
    values: () => [0, 10, 10],
  },
];

const edits: Case[] = [
  {
    fn: 'customer_create',
    allowed: ['crm'],
    what: 'create customers',
    rest: '$5::text, $6::text, $7::text, $8::text, $9::jsonb, $10::text',
    values: (c) => [c.requestId, '127.0.0.1', '0.1.0', 'ORG-000952', JSON.stringify({ orgName: 'X' }), c.reason],
    edit: true,
  },
  {
    fn: 'customer_archive',
    allowed: ['support_lead'],
    what: 'archive customers',
    rest: '$5::text, $6::text, $7::text, $8::text, $9::integer, $10::text',
    values: (c) => [c.requestId, '127.0.0.1', '0.1.0', 'ORG-000951', 99, c.reason],
    edit: true,
  },
  {
    fn: 'assignments_apply',
    allowed: ['admin'],
    what: 'assign customers',
    rest: '$5::text, $6::text, $7::text, $8::text[], $9::text, $10::text, $11::text',
    values: (c) => [c.requestId, '127.0.0.1', '0.1.0', ['ORG-000951'], null, 'carol', c.reason],
    edit: true,
  },
];

async function call(c: Case, actor: Actor, ctx: Ctx = good): Promise<unknown> {
  const res = await api.query(`SELECT api.${c.fn}(${ACTOR}, ${c.rest}) AS r`, [...actor, ...c.values(ctx)]);
  return res.rows[0]?.r;
}

const invalidActor: Actor = ['', 'Nobody', ['crm'], []];
const withRole = (role: string): Actor => ['alice', 'Alice Adams', [role], ['openid']];
const noRole: Actor = ['alice', 'Alice Adams', ['viewer'], ['openid']];
const badContext: Ctx = { ...good, requestId: '' };
const badReason: Ctx = { ...good, reason: ' x ' };

describe.each([...reads, ...edits])('api.$fn', (c) => {
  it('refuses an invalid actor first (CF403 invalid actor)', async () => {
    await expect(call(c, invalidActor, c.edit || c.logged ? badContext : good)).rejects.toMatchObject({ code: 'CF403', message: 'invalid actor' });
  });

  it('then an actor without an allowed role (CF403)', async () => {
    await expect(call(c, noRole, c.edit || c.logged ? badContext : good)).rejects.toMatchObject({ code: 'CF403', message: `not allowed to ${c.what}` });
    // A scope is not a role.
    await expect(call(c, ['svc', 'svc', [], ['predictions:write', ...c.allowed]])).rejects.toMatchObject({ code: 'CF403' });
  });

  if (c.edit) {
    it('then an invalid request context (CV422), then a missing reason (CV422)', async () => {
      await expect(call(c, withRole(c.allowed[0]!), { ...badReason, requestId: '' })).rejects.toMatchObject({
        code: 'CV422',
        message: 'invalid request context',
      });
      await expect(call(c, withRole(c.allowed[0]!), badReason)).rejects.toMatchObject({
        code: 'CV422',
        message: 'a reason of 3 to 500 characters is required',
      });
    });
  } else {
    if (c.logged) {
      it('then an invalid request context (CV422)', async () => {
        await expect(call(c, withRole(c.allowed[0]!), badContext)).rejects.toMatchObject({ code: 'CV422', message: 'invalid request context' });
      });
    }
    it('answers every allowed role', async () => {
      for (const role of c.allowed) await expect(call(c, withRole(role)), role).resolves.toBeDefined();
    });
  }
});

describe('the single edit, inside api.customer_update_many', () => {
  const edit = async (actor: Actor, ctx: Ctx) => {
    const [sub, name, roles, scopes] = actor;
    const item = { sub, name, roles, scopes, requestId: ctx.requestId, clientAddress: '127.0.0.1', appVersion: '0.1.0', orgId: 'ORG-000951', expectedVersion: 1, changes: { userCount: 3 }, reason: ctx.reason };
    const res = await api.query<{ r: unknown[] }>('SELECT api.customer_update_many($1::jsonb) AS r', [JSON.stringify([item])]);
    return res.rows[0]?.r[0];
  };

  it('reports the same codes and messages, in the same order, as its own outcome', async () => {
    expect(await edit(invalidActor, badContext)).toEqual({ code: 'CF403', message: 'invalid actor', constraint: null });
    expect(await edit(noRole, badContext)).toEqual({ code: 'CF403', message: 'not allowed to edit customers', constraint: null });
    expect(await edit(withRole('crm'), { ...badReason, requestId: '' })).toEqual({ code: 'CV422', message: 'invalid request context', constraint: null });
    expect(await edit(withRole('crm'), badReason)).toEqual({ code: 'CV422', message: 'a reason of 3 to 500 characters is required', constraint: null });
  });
});

describe('api.predictions_ingest', () => {
  const ingest = (actor: Actor, ctx: Ctx = good) =>
    api.query(`SELECT api.predictions_ingest(${ACTOR}, $5::text, $6::text, $7::text, $8::jsonb) AS r`, [
      ...actor,
      ctx.requestId,
      '127.0.0.1',
      '0.1.0',
      JSON.stringify([]),
    ]);
  const runner: Actor = ['cims-model-runner', 'cims-model-runner', [], ['predictions:write']];

  it('checks the actor, then the predictions:write scope (not a role), then the request context', async () => {
    await expect(ingest(['', 'x', [], ['predictions:write']], badContext)).rejects.toMatchObject({ code: 'CF403', message: 'invalid actor' });
    await expect(ingest(['alice', 'Alice', ['admin', 'crm', 'support_lead'], ['openid']], badContext)).rejects.toMatchObject({
      code: 'CF403',
      message: 'not allowed to write predictions',
    });
    await expect(ingest(runner, badContext)).rejects.toMatchObject({ code: 'CV422', message: 'invalid request context' });
    await expect(ingest(runner)).rejects.toMatchObject({ code: 'CV422', message: 'a batch of 1 to 1000 predictions is required' });
  });
});
