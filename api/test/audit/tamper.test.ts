// What the database's administrators can do to the audit trail, done as a
// superuser (triggers switched off, as only a superuser can now), and what the
// API's verification says about it: each change is reported with its problem
// and the event, link or checkpoint it concerns. Real PostgreSQL, real keys.
import { generateKeyPairSync } from 'node:crypto';
import type pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ZERO_HASH, type CheckpointBody } from '../../../shared/audit';
import { AuditVerifyResult } from '../../../shared/api';
import { checkpointHash, keyIdOf, linkHash, signCheckpoint } from '../../src/audit/hash';
import { migrate } from '../../src/db/migrate';
import { actors, createTestDatabase, seedCustomer, testContext, type TestDatabase } from '../../../testing/db';

let t: TestDatabase;

const ORG = 'ORG-000811';
let version = 1;
async function edits(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await t.store.updateCustomer(actors.alice, testContext(), ORG, version, { userCount: 100 + version }, `Edit ${version}`);
    version++;
  }
}
async function reads(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await t.store.getCustomer(actors.bob, testContext(), ORG);
}
const verify = async () => AuditVerifyResult.parse(await t.trail.verify(actors.bob));

// Two checkpoints: #1 over links 1-6 and access events 1-3, #2 over links 7-9 and access events 4-5.
beforeEach(async () => {
  t = await createTestDatabase();
  version = 1;
  await seedCustomer(t.admin, { orgId: ORG, ownerSub: 'alice' });
  await edits(6);
  await reads(3);
  expect(await verify()).toMatchObject({ ok: true, checked: 6, accessChecked: 3, checkpoint: { seq: 1 } });
  await edits(3);
  await reads(2);
  expect(await verify()).toMatchObject({ ok: true, checked: 9, accessChecked: 5, unsealed: 0, accessUnsealed: 0, checkpoint: { seq: 2 } });
});
afterEach(() => t?.drop());

/** As a superuser: every audit trigger off, the change, then migrate puts the triggers back (ENABLE ALWAYS). */
async function asSuperuser(change: () => Promise<unknown>): Promise<void> {
  const tables = ['audit.events', 'audit.chain', 'audit.access_events', 'audit.checkpoints'];
  for (const table of tables) await t.admin.query(`ALTER TABLE ${table} DISABLE TRIGGER USER`);
  try {
    await change();
  } finally {
    await migrate(t.adminUrl);
  }
}

const q = <R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params: unknown[] = []) => t.admin.query<R>(sql, params);
const eventAt = async (seq: number): Promise<string> =>
  String((await q('SELECT event_id FROM audit.chain WHERE seq = $1', [seq])).rows[0]?.event_id);

/** The attacker's recomputation of every link from `from` on, with the same canonical form the API uses. */
async function recomputeLinks(from: number): Promise<void> {
  await q("SET TimeZone = 'UTC'"); // what the API's reading functions set: row_to_json writes timestamps in UTC
  const { rows } = await q<{ seq: string; prev_hash: string; event: Record<string, unknown> }>(
    'SELECT c.seq, c.prev_hash, row_to_json(e) AS event FROM audit.chain c JOIN audit.events e ON e.id = c.event_id WHERE c.seq >= $1 ORDER BY c.seq',
    [from],
  );
  let prev = rows[0]!.prev_hash;
  for (const r of rows) {
    const hash = linkHash(prev, Number(r.seq), r.event);
    await q('UPDATE audit.chain SET prev_hash = $1, hash = $2 WHERE seq = $3', [prev, hash, r.seq]);
    prev = hash;
  }
}

describe('verification against an administrator of the database', () => {
  it('delete the newest events and their links: truncated, at the first missing link', async () => {
    await asSuperuser(async () => {
      await q('DELETE FROM audit.events WHERE id IN (SELECT event_id FROM audit.chain WHERE seq >= 8)');
      await q('DELETE FROM audit.chain WHERE seq >= 8');
    });
    expect(await verify()).toMatchObject({ ok: false, problem: 'truncated', chainSeq: '8', checkpointSeq: 2, checked: 7 });
  });

  it('delete them and every checkpoint after them: truncated, from the copy the sink kept', async () => {
    await asSuperuser(async () => {
      await q('DELETE FROM audit.events WHERE id IN (SELECT event_id FROM audit.chain WHERE seq >= 7)');
      await q('DELETE FROM audit.chain WHERE seq >= 7');
      await q('DELETE FROM audit.checkpoints WHERE seq >= 2');
    });
    // The database now agrees with itself, and the API signs nothing over it.
    const result = await verify();
    expect(result).toMatchObject({ ok: false, problem: 'truncated', checkpointSeq: 2 });
    expect((await q('SELECT max(seq) AS n FROM audit.checkpoints')).rows[0]?.n).toBe('1');
  });

  it('edit an event and recompute every later link: checkpoint_mismatch at the first checkpoint over it', async () => {
    const target = await eventAt(3);
    await asSuperuser(async () => {
      await q("UPDATE audit.events SET reason = 'nothing to see' WHERE id = $1", [target]);
      await recomputeLinks(3);
    });
    expect(await verify()).toMatchObject({ ok: false, problem: 'checkpoint_mismatch', checkpointSeq: 1, chainSeq: '6', checked: 5 });
  });

  it('edit an event and leave the links: hash_mismatch at that event', async () => {
    const target = await eventAt(8);
    await asSuperuser(() => q("UPDATE audit.events SET changes = '[]' WHERE id = $1", [target]));
    expect(await verify()).toMatchObject({ ok: false, problem: 'hash_mismatch', firstBadEventId: target, chainSeq: '8', checked: 7 });
  });

  it('reorder two links: hash_mismatch at the first of them', async () => {
    const [second, third] = [await eventAt(2), await eventAt(3)];
    await asSuperuser(async () => {
      await q('UPDATE audit.chain SET event_id = -event_id WHERE seq IN (2, 3)'); // event_id is unique
      await q('UPDATE audit.chain SET event_id = $1 WHERE seq = 2', [third]);
      await q('UPDATE audit.chain SET event_id = $1 WHERE seq = 3', [second]);
    });
    expect(await verify()).toMatchObject({ ok: false, problem: 'hash_mismatch', firstBadEventId: third, chainSeq: '2', checked: 1 });
  });

  it('delete an event but keep its link: missing_event; delete a link in the middle: chain_break', async () => {
    const target = await eventAt(5);
    await asSuperuser(() => q('DELETE FROM audit.events WHERE id = $1', [target]));
    expect(await verify()).toMatchObject({ ok: false, problem: 'missing_event', firstBadEventId: target, chainSeq: '5' });
    await asSuperuser(() => q('DELETE FROM audit.chain WHERE seq = 5'));
    expect(await verify()).toMatchObject({ ok: false, problem: 'chain_break', chainSeq: '5', firstBadEventId: await eventAt(6) });
  });

  it('delete access events: access_log_mismatch, naming the first one gone and its checkpoint', async () => {
    const { rows } = await q<{ id: string }>('SELECT id FROM audit.access_events ORDER BY id');
    expect(rows).toHaveLength(5);
    await asSuperuser(() => q('DELETE FROM audit.access_events WHERE id IN ($1, $2)', [rows[1]!.id, rows[4]!.id]));
    expect(await verify()).toMatchObject({ ok: false, problem: 'access_log_mismatch', accessEventId: rows[1]!.id, checkpointSeq: 1 });
  });

  it('alter an access event: access_log_mismatch at its checkpoint', async () => {
    const { rows } = await q<{ id: string }>('SELECT id FROM audit.access_events ORDER BY id');
    await asSuperuser(() => q("UPDATE audit.access_events SET client_address = '10.0.0.9' WHERE id = $1", [rows[3]!.id]));
    expect(await verify()).toMatchObject({ ok: false, problem: 'access_log_mismatch', checkpointSeq: 2 });
  });

  it("replace a checkpoint's signature: bad_signature", async () => {
    await asSuperuser(() => q('UPDATE audit.checkpoints SET signature = (SELECT signature FROM audit.checkpoints WHERE seq = 2) WHERE seq = 1'));
    expect(await verify()).toMatchObject({ ok: false, problem: 'bad_signature', checkpointSeq: 1 });
  });

  it('rewrite the tail and sign its checkpoint with a key that is not trusted: bad_signature', async () => {
    const forger = generateKeyPairSync('ed25519').privateKey;
    const target = await eventAt(8);
    const first = (await q<{ body: CheckpointBody }>('SELECT body FROM audit.checkpoints WHERE seq = 1')).rows[0]!.body;
    const second = (await q<{ body: CheckpointBody }>('SELECT body FROM audit.checkpoints WHERE seq = 2')).rows[0]!.body;
    await asSuperuser(async () => {
      await q("UPDATE audit.events SET reason = 'rewritten' WHERE id = $1", [target]);
      await recomputeLinks(8);
      const head = (await q<{ hash: string }>('SELECT hash FROM audit.chain WHERE seq = 9')).rows[0]!.hash;
      const forged = signCheckpoint({ ...second, chainHead: head, prevHash: checkpointHash(first), keyId: keyIdOf(forger) }, forger);
      await q('UPDATE audit.checkpoints SET body = $1, signature = $2 WHERE seq = 2', [JSON.stringify(forged.checkpoint), forged.signature]);
    });
    const result = await verify();
    expect(result).toMatchObject({ ok: false, problem: 'bad_signature', checkpointSeq: 2 });
    expect(result.ok === false && result.detail).toMatch(/not trusted/);
  });

  it('forge nothing and change nothing: ok, and the chain starts from zeros', async () => {
    expect((await q('SELECT prev_hash FROM audit.chain WHERE seq = 1')).rows[0]?.prev_hash).toBe(ZERO_HASH);
    expect(await verify()).toMatchObject({ ok: true, checked: 9, accessChecked: 5 });
  });
});
