// The verification module alone, on a trail built in memory: no database, as
// an offline verifier runs it. Freshness, the kept copies, and the sink.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ZERO_HASH, canonicalJson, type CheckpointBody } from '../../../shared/audit';
import { accessLine, chainAccessHash, checkpointHash, keyIdOf, linkHash, sha256hex, signCheckpoint, trustedKey } from '../../src/audit/hash';
import { DirectorySink } from '../../src/audit/sink';
import { verifyAuditTrail, type AccessRow, type ChainRow, type StoredCheckpoint, type VerifyInput } from '../../src/audit/verify';

const { privateKey } = generateKeyPairSync('ed25519');
const keys = [trustedKey(privateKey)];
const MINUTE = 60_000;
const T0 = Date.parse('2026-12-01T12:00:00.000Z');

/** n events, n links, and one checkpoint over the first `covered` links and all access rows. */
function trail(n: number, covered: number, access: AccessRow[] = []) {
  const links: ChainRow[] = [];
  let prev = ZERO_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const event = { id: seq, action: 'customer.update', reason: `r${seq}` };
    const hash = linkHash(prev, seq, event);
    links.push({ seq, eventId: String(seq), prevHash: prev, hash, event });
    prev = hash;
  }
  const digest = sha256hex(access.map(accessLine).join(''));
  const body: CheckpointBody = {
    v: 1,
    seq: 1,
    chainSeq: covered,
    chainHead: covered ? links[covered - 1]!.hash : ZERO_HASH,
    accessCount: access.length,
    accessHash: chainAccessHash(ZERO_HASH, digest),
    signedAt: new Date(T0).toISOString(),
    prevHash: ZERO_HASH,
    keyId: keyIdOf(privateKey),
  };
  const cp: StoredCheckpoint = { ...signCheckpoint(body, privateKey), accessRanges: access.length ? [[access[0]!.id, access.at(-1)!.id]] : [] };
  return { links, cp };
}

const input = (over: Partial<VerifyInput> & Pick<VerifyInput, 'links' | 'checkpoints'>): VerifyInput => ({
  access: [],
  witnesses: [],
  trustedKeys: keys,
  unlinked: 0,
  now: new Date(T0 + MINUTE),
  intervalMs: MINUTE,
  ...over,
});

describe('verifyAuditTrail', () => {
  it('accepts a trail its checkpoint covers, and counts what came after it as unsealed', async () => {
    const access = [{ id: 1, actor_sub: 'bob' }, { id: 2, actor_sub: 'bob' }];
    const { links, cp } = trail(5, 3, access);
    expect(await verifyAuditTrail(input({ links, checkpoints: [cp], access: [...access, { id: 3, actor_sub: 'eve' }] }))).toEqual({
      ok: true,
      checked: 5,
      accessChecked: 2,
      unsealed: 2,
      accessUnsealed: 1,
      checkpoint: { seq: 1, signedAt: cp.checkpoint.signedAt, keyId: cp.checkpoint.keyId },
    });
  });

  it('calls the newest checkpoint stale after two intervals, but only if the trail grew since', async () => {
    const grown = trail(5, 3);
    const later = new Date(T0 + 2 * MINUTE + 1);
    expect(await verifyAuditTrail(input({ ...grown, checkpoints: [grown.cp], now: later }))).toMatchObject({ ok: false, problem: 'stale_checkpoint', checkpointSeq: 1 });
    expect(await verifyAuditTrail(input({ ...grown, checkpoints: [grown.cp], now: new Date(T0 + 2 * MINUTE) }))).toMatchObject({ ok: true });
    const idle = trail(3, 3);
    expect(await verifyAuditTrail(input({ ...idle, checkpoints: [idle.cp], now: new Date(T0 + 60 * MINUTE) }))).toMatchObject({ ok: true });
    // Events waiting for a link count as growth too.
    expect(await verifyAuditTrail(input({ ...idle, checkpoints: [idle.cp], unlinked: 1, now: later }))).toMatchObject({ problem: 'stale_checkpoint' });
    // A trail with events and no checkpoint at all is stale too.
    expect(await verifyAuditTrail(input({ links: idle.links, checkpoints: [] }))).toMatchObject({ problem: 'stale_checkpoint' });
  });

  it('compares the kept copy with the stored one: truncated when it is gone, checkpoint_mismatch when it differs', async () => {
    const { links, cp } = trail(3, 3);
    const next: CheckpointBody = { ...cp.checkpoint, seq: 2, prevHash: checkpointHash(cp.checkpoint) };
    const kept = signCheckpoint(next, privateKey);
    expect(await verifyAuditTrail(input({ links, checkpoints: [cp], witnesses: [kept] }))).toMatchObject({ ok: false, problem: 'truncated', checkpointSeq: 2 });
    const other = signCheckpoint({ ...cp.checkpoint, signedAt: new Date(T0 + 1).toISOString() }, privateKey);
    expect(await verifyAuditTrail(input({ links, checkpoints: [cp], witnesses: [other] }))).toMatchObject({ ok: false, problem: 'checkpoint_mismatch', checkpointSeq: 1 });
    expect(await verifyAuditTrail(input({ links, checkpoints: [cp], witnesses: [cp] }))).toMatchObject({ ok: true });
  });

  it('refuses a gap in the checkpoints and one that does not link to the previous', async () => {
    const { links, cp } = trail(3, 3);
    const third = { ...signCheckpoint({ ...cp.checkpoint, seq: 3, prevHash: checkpointHash(cp.checkpoint) }, privateKey), accessRanges: [] };
    expect(await verifyAuditTrail(input({ links, checkpoints: [cp, third] }))).toMatchObject({ problem: 'checkpoint_mismatch', checkpointSeq: 2 });
    const unlinked = { ...signCheckpoint({ ...cp.checkpoint, seq: 2, prevHash: ZERO_HASH }, privateKey), accessRanges: [] };
    expect(await verifyAuditTrail(input({ links, checkpoints: [cp, unlinked] }))).toMatchObject({ problem: 'checkpoint_mismatch', checkpointSeq: 2 });
  });

  it('builds the signed bytes from canonical JSON: key order and spacing do not matter, values do', () => {
    expect(canonicalJson({ b: [1, 'x', null], a: { d: true, c: 1.5 } })).toBe('{"a":{"c":1.5,"d":true},"b":[1,"x",null]}');
    expect(linkHash(ZERO_HASH, 1, { b: 1, a: 2 })).toBe(linkHash(ZERO_HASH, 1, { a: 2, b: 1 }));
    expect(linkHash(ZERO_HASH, 1, { a: 2 })).not.toBe(linkHash(ZERO_HASH, 2, { a: 2 }));
  });
});

describe('DirectorySink', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cims-sink-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes each checkpoint once, read-only; the same again is a no-op, a different one is refused', async () => {
    const sink = new DirectorySink(join(dir, 'checkpoints'));
    expect(await sink.latest()).toBeNull();
    const { cp } = trail(1, 1);
    const signed = { checkpoint: cp.checkpoint, signature: cp.signature };
    await sink.put(signed);
    await sink.put(signed);
    const file = join(dir, 'checkpoints', 'checkpoint-000000000001.json');
    expect(statSync(file).mode & 0o777).toBe(0o444);
    const other = signCheckpoint({ ...cp.checkpoint, signedAt: new Date(T0 + 5).toISOString() }, privateKey);
    await expect(sink.put(other)).rejects.toThrow(/already holds a different checkpoint #1/);
    const second = signCheckpoint({ ...cp.checkpoint, seq: 2, prevHash: checkpointHash(cp.checkpoint) }, privateKey);
    await sink.put(second);
    expect(await sink.latest()).toEqual(second);
    expect(await sink.get(1)).toEqual(signed);
  });
});
