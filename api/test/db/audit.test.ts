// The audit trail: append-only for every role, sealed into a hash chain behind
// the writes, and verification that catches what a superuser alters or deletes
// (after disabling the trigger, as only a superuser or the owner can).
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

const verify = async (from?: string, to?: string) => AuditVerifyResult.parse(await t.store.auditVerify(actors.bob, from, to));

describe('append-only', () => {
  it('refuses UPDATE, DELETE and TRUNCATE on every audit table, for the owner and for a superuser', async () => {
    for (const role of ['cims_owner', null]) {
      for (const table of ['audit.events', 'audit.chain', 'audit.access_events']) {
        const col = table === 'audit.chain' ? 'hash' : 'entity_id';
        for (const stmt of [`UPDATE ${table} SET ${col} = ${col}`, `DELETE FROM ${table}`, `TRUNCATE ${table}`]) {
          await t.admin.query('BEGIN');
          try {
            if (role) await t.admin.query(`SET LOCAL ROLE ${role}`);
            await expect(t.admin.query(stmt), `${role ?? 'superuser'}: ${stmt}`).rejects.toMatchObject({ code: 'CA405' });
          } finally {
            await t.admin.query('ROLLBACK');
          }
        }
      }
    }
  });
});

describe('sealing and verification', () => {
  it('seals every committed event once, in a contiguous chain, and verifies it', async () => {
    const result = await verify();
    expect(result).toEqual({ ok: true, checked: 12, unsealed: 0 });
    const chain = await t.admin.query<{ seq: string; event_id: string }>('SELECT seq, event_id FROM audit.chain ORDER BY seq');
    expect(chain.rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: 12 }, (_v, i) => i + 1));
    expect(new Set(chain.rows.map((r) => r.event_id)).size).toBe(12);
    const page = await t.store.customerAudit(actors.alice, testContext(), 'ORG-000801', undefined, 10);
    expect(page.items.every((e) => e.hash && e.prevHash)).toBe(true);
  });

  it('reports events not yet sealed, and seals concurrent writes even while another transaction stays open', async () => {
    const blocker = new pg.Client({ connectionString: t.adminUrl });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('SELECT pg_current_xact_id()'); // a long write transaction elsewhere
      await Promise.all(
        [1, 2, 3, 4].map((i) => t.store.updateCustomer(actors.alice, testContext(), `ORG-00080${i}`, 4, { userCount: 1000 + i }, 'Concurrent')),
      );
      // Verification without sealing first says how many events are not in the chain yet.
      const raw = await t.admin.query<{ r: unknown }>("SELECT api.audit_verify('bob', 'Bob', ARRAY['support_lead'], '{}', NULL, NULL) AS r");
      expect(raw.rows[0]?.r).toEqual({ ok: true, checked: 12, unsealed: 4 });
      expect(await verify()).toEqual({ ok: true, checked: 16, unsealed: 0 });
      await blocker.query('COMMIT');
    } finally {
      await blocker.end();
    }
  });

  it('reports an event a superuser altered (hash_mismatch), also after a partial cover-up', async () => {
    const { rows } = await t.admin.query<{ id: string; reason: string }>(
      "SELECT id, reason FROM audit.events WHERE entity_id = 'ORG-000802' ORDER BY id LIMIT 1 OFFSET 1",
    );
    const target = rows[0]!;
    await tamper(`UPDATE audit.events SET reason = 'nothing to see' WHERE id = ${Number(target.id)}`);
    expect(await verify()).toMatchObject({ ok: false, problem: 'hash_mismatch', firstBadEventId: target.id });
    await tamper(`UPDATE audit.events SET changes = '[]' WHERE id = ${Number(target.id)}`);
    await t.admin.query('ALTER TABLE audit.events DISABLE TRIGGER events_append_only');
    await t.admin.query('UPDATE audit.events SET reason = $1 WHERE id = $2', [target.reason, target.id]);
    await t.admin.query('ALTER TABLE audit.events ENABLE TRIGGER events_append_only');
    expect(await verify()).toMatchObject({ ok: false, problem: 'hash_mismatch', firstBadEventId: target.id }); // changes still altered
  });

  it('reports an event a superuser deleted (missing_event)', async () => {
    const fresh = await createTestDatabase();
    try {
      await seedCustomer(fresh.admin, { orgId: 'ORG-000901', ownerSub: 'alice' });
      for (let v = 1; v <= 3; v++) await fresh.store.updateCustomer(actors.alice, testContext(), 'ORG-000901', v, { userCount: v }, `Edit ${v}`);
      expect(await fresh.store.auditVerify(actors.bob, undefined, undefined)).toEqual({ ok: true, checked: 3, unsealed: 0 });
      const { rows } = await fresh.admin.query<{ id: string }>('SELECT id FROM audit.events ORDER BY id LIMIT 1 OFFSET 1');
      await fresh.admin.query('ALTER TABLE audit.events DISABLE TRIGGER events_append_only');
      await fresh.admin.query('DELETE FROM audit.events WHERE id = $1', [rows[0]!.id]);
      await fresh.admin.query('ALTER TABLE audit.events ENABLE TRIGGER events_append_only');
      expect(await fresh.store.auditVerify(actors.bob, undefined, undefined)).toMatchObject({ ok: false, problem: 'missing_event', firstBadEventId: rows[0]!.id, checked: 1 });

      // Deleting its chain link too leaves a gap the next link exposes.
      await fresh.admin.query('ALTER TABLE audit.chain DISABLE TRIGGER chain_append_only');
      await fresh.admin.query('DELETE FROM audit.chain WHERE event_id = $1', [rows[0]!.id]);
      await fresh.admin.query('ALTER TABLE audit.chain ENABLE TRIGGER chain_append_only');
      const after = await fresh.store.auditVerify(actors.bob, undefined, undefined);
      expect(after).toMatchObject({ ok: false, problem: 'chain_break', checked: 1 });
    } finally {
      await fresh.drop();
    }
  });

  it('verifies a time range, anchored on the link before it', async () => {
    const { rows } = await t.admin.query<{ at: string }>(
      "SELECT to_char(max(occurred_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS at FROM audit.events",
    );
    const r = await verify(new Date(Date.now() - 3_600_000).toISOString(), rows[0]!.at);
    expect(r.ok).toBe(false); // the altered event above lies in the range
    const empty = await verify('2000-01-01T00:00:00Z', '2000-01-02T00:00:00Z');
    expect(empty).toEqual({ ok: true, checked: 0, unsealed: 0 });
  });
});

describe('access log', () => {
  it('keeps one access event per read, and they cannot be changed', async () => {
    const { rows } = await t.admin.query("SELECT actor_sub, entity_id FROM audit.access_events WHERE entity_id = 'ORG-000801'");
    expect(rows).toEqual([{ actor_sub: 'bob', entity_id: 'ORG-000801' }]);
    await expect(t.admin.query("DELETE FROM audit.access_events WHERE entity_id = 'ORG-000801'")).rejects.toMatchObject({ code: 'CA405' });
  });
});

/** What only a superuser can do: switch the append-only trigger off, change the trail, switch it on. */
async function tamper(sql: string): Promise<void> {
  await t.admin.query('ALTER TABLE audit.events DISABLE TRIGGER events_append_only');
  try {
    await t.admin.query(sql);
  } finally {
    await t.admin.query('ALTER TABLE audit.events ENABLE TRIGGER events_append_only');
  }
}
