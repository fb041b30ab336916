// The audit trail: append-only for every role (also under replication mode, and
// for a login that is a member of cims_owner), sealed into a hash chain behind
// the writes and signed in checkpoints. What a superuser does to it is in
// test/audit/tamper.test.ts.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditVerifyResult } from '../../../shared/api';
import { actors, createTestDatabase, seedCustomer, testContext, type TestDatabase } from '../../../testing/db';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
  for (let i = 1; i <= 4; i++) await seedCustomer(t.admin, { orgId: `ORG-00080${i}`, ownerSub: 'alice' });
  for (let v = 1; v <= 3; v++) {
    for (let i = 1; i <= 4; i++) {
      await t.store.updateCustomer(actors.alice, testContext(), `ORG-00080${i}`, v, { userCount: 10 * v + i }, `Round ${v}`);
    }
  }
  await t.store.getCustomer(actors.bob, testContext(), 'ORG-000801');
});
afterAll(() => t?.drop());

const verify = async () => AuditVerifyResult.parse(await t.trail.verify(actors.bob));

describe('append-only', () => {
  it('refuses UPDATE, DELETE and TRUNCATE on every audit table, for the owners and for a superuser, also in replica mode', async () => {
    for (const role of ['cims_owner', 'cims_audit_owner', null]) {
      for (const table of ['audit.events', 'audit.chain', 'audit.access_events', 'audit.checkpoints']) {
        const col = table === 'audit.chain' ? 'hash' : table === 'audit.checkpoints' ? 'signature' : 'entity_id';
        for (const stmt of [`UPDATE ${table} SET ${col} = ${col}`, `DELETE FROM ${table}`, `TRUNCATE ${table}`]) {
          for (const replica of [false, true]) {
            await t.admin.query('BEGIN');
            try {
              // A superuser's way around ordinary triggers; ENABLE ALWAYS triggers fire anyway.
              if (replica) await t.admin.query('SET LOCAL session_replication_role = replica');
              if (role) await t.admin.query(`SET LOCAL ROLE ${role}`);
              const refused = role === 'cims_owner' ? { code: '42501' } : { code: 'CA405' }; // cims_owner holds no UPDATE, DELETE or TRUNCATE
              await expect(t.admin.query(stmt), `${role ?? 'superuser'}${replica ? ' (replica)' : ''}: ${stmt}`).rejects.toMatchObject(refused);
            } finally {
              await t.admin.query('ROLLBACK');
            }
          }
        }
      }
    }
  });

  it('a login that is a member of cims_owner (the migrator) cannot delete events, drop or disable the triggers, or take over the tables', async () => {
    const login = `cims_test_migrator_${t.name.slice(-6)}`;
    // Identifiers cannot be parameters; the name is a fixed prefix and hex digits.
    await t.admin.query(`CREATE ROLE ${login} LOGIN IN ROLE cims_owner`);
    await t.admin.query(`GRANT CONNECT ON DATABASE ${t.name} TO ${login}`);
    const url = new URL(t.adminUrl);
    url.username = login;
    const insider = new pg.Client({ connectionString: url.toString() });
    await insider.connect();
    try {
      await insider.query('SET ROLE cims_owner');
      const attempts = [
        'DELETE FROM audit.events',
        'UPDATE audit.events SET reason = NULL',
        'TRUNCATE audit.chain',
        'ALTER TABLE audit.events DISABLE TRIGGER events_append_only',
        'ALTER TABLE audit.events DISABLE TRIGGER ALL',
        'DROP TRIGGER events_append_only ON audit.events',
        'DROP TABLE audit.checkpoints',
        'ALTER TABLE audit.events OWNER TO cims_owner',
        'SET ROLE cims_audit_owner',
        'SET session_replication_role = replica',
        'GRANT cims_audit_owner TO cims_owner',
      ];
      for (const sql of attempts) {
        await expect(insider.query(sql), sql).rejects.toMatchObject({ code: expect.stringMatching(/^(42501|CA405)$/) });
      }
      const triggers = await t.admin.query<{ n: string }>(
        "SELECT count(*) AS n FROM pg_trigger WHERE NOT tgisinternal AND tgenabled = 'A' AND tgrelid = 'audit.events'::regclass",
      );
      expect(Number(triggers.rows[0]?.n)).toBe(2);
    } finally {
      await insider.end();
      await t.admin.query(`REVOKE CONNECT ON DATABASE ${t.name} FROM ${login}`);
      await t.admin.query(`DROP ROLE ${login}`);
    }
  });
});

describe('sealing and verification', () => {
  it('seals every committed event once, in a contiguous chain, signs a checkpoint of it, and verifies it', async () => {
    const result = await verify();
    expect(result).toMatchObject({ ok: true, checked: 12, unsealed: 0, accessChecked: 1, accessUnsealed: 0, checkpoint: { seq: 1, keyId: t.trail.keyId } });
    const chain = await t.admin.query<{ seq: string; event_id: string }>('SELECT seq, event_id FROM audit.chain ORDER BY seq');
    expect(chain.rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: 12 }, (_v, i) => i + 1));
    expect(new Set(chain.rows.map((r) => r.event_id)).size).toBe(12);
    const page = await t.store.customerAudit(actors.alice, testContext(), 'ORG-000801', undefined, 10);
    expect(page.items.every((e) => e.hash && e.prevHash)).toBe(true);
    // Nothing new: no new checkpoint. The history read above is an access event: the next verify signs #2.
    expect(await verify()).toMatchObject({ ok: true, checkpoint: { seq: 2 }, accessChecked: 2 });
    expect(await verify()).toMatchObject({ ok: true, checkpoint: { seq: 2 } });
  });

  it('seals concurrent writes even while another transaction stays open', async () => {
    const blocker = new pg.Client({ connectionString: t.adminUrl });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('SELECT pg_current_xact_id()'); // a long write transaction elsewhere
      await Promise.all(
        [1, 2, 3, 4].map((i) => t.store.updateCustomer(actors.alice, testContext(), `ORG-00080${i}`, 4, { userCount: 1000 + i }, 'Concurrent')),
      );
      expect(await verify()).toMatchObject({ ok: true, checked: 16, unsealed: 0 });
      await blocker.query('COMMIT');
    } finally {
      await blocker.end();
    }
  });
});

describe('access log', () => {
  it('keeps one access event per read, and they cannot be changed', async () => {
    const { rows } = await t.admin.query("SELECT actor_sub, entity_id FROM audit.access_events WHERE entity_id = 'ORG-000801' AND kind = 'customer.read'");
    expect(rows).toEqual([{ actor_sub: 'bob', entity_id: 'ORG-000801' }]);
    await expect(t.admin.query("DELETE FROM audit.access_events WHERE entity_id = 'ORG-000801'")).rejects.toMatchObject({ code: 'CA405' });
  });
});
