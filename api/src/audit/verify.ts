// Verification of the audit trail that trusts nothing the database says about
// itself: given the stored rows (chain links with their events, signed
// checkpoints, access events), the checkpoints kept outside the database (the
// sink, a console, an auditor's copy) and the trusted public keys, it recomputes
// every hash and checks every signature. No database access: the API feeds it
// rows page by page, and an offline verifier can feed it a file.
//
// Checks, in this order, the first failure being the report:
//  1. checkpoints: each signed by a trusted key, numbered 1, 2, 3... without a
//     gap, each linking to the previous one's hash;
//  2. witnesses: each checkpoint kept outside is in the database, unchanged;
//  3. chain: links numbered without a gap, each prev_hash the previous hash,
//     each hash recomputed from its event, and the head at every checkpoint's
//     chainSeq the checkpoint's chainHead; the chain reaches the newest one;
//  4. access log: the events each checkpoint covers all present, and their
//     digest the checkpoint's accessHash;
//  5. freshness: the newest checkpoint is no older than two intervals, unless
//     nothing was written since.
import { createHash, type Hash } from 'node:crypto';
import { ZERO_HASH, sameCheckpoint, type SignedCheckpoint } from '../../../shared/audit';
import type { AuditProblem, AuditVerifyResult, CheckpointRef } from '../../../shared/api';
import { accessLine, chainAccessHash, checkpointHash, linkHash, signatureValid, type RowJson, type TrustedKey } from './hash';

export type { TrustedKey } from './hash';

/** One link of audit.chain, with its event as stored (row_to_json of the audit.events row, timestamps in UTC), or null when the event is gone. */
export interface ChainRow {
  seq: number;
  eventId: string;
  prevHash: string;
  hash: string;
  event: RowJson | null;
}

/** A checkpoint as stored in audit.checkpoints: the signed checkpoint, and which access events it covers. */
export interface StoredCheckpoint extends SignedCheckpoint {
  /** Inclusive ranges of audit.access_events ids new in this checkpoint, ascending (not signed: accessCount and accessHash are). */
  accessRanges: [number, number][];
}

/** One access event as stored: row_to_json of the audit.access_events row (every column; `id` a number). */
export type AccessRow = RowJson & { id: number };

export interface VerifyInput {
  /** audit.chain joined with audit.events, ascending by seq. */
  links: Iterable<ChainRow> | AsyncIterable<ChainRow>;
  /** audit.checkpoints, ascending by seq. */
  checkpoints: readonly StoredCheckpoint[];
  /** audit.access_events, ascending by id. */
  access: Iterable<AccessRow> | AsyncIterable<AccessRow>;
  /** Checkpoints kept outside the database (the sink's newest, a console's); each must be in `checkpoints`, unchanged. */
  witnesses: readonly SignedCheckpoint[];
  /** Keys whose signatures are accepted (the signing key's and older ones). */
  trustedKeys: readonly TrustedKey[];
  /** Events the database holds without a chain link. */
  unlinked: number;
  now: Date;
  /** The checkpoint interval: the newest checkpoint may be two of these old while the trail grows. */
  intervalMs: number;
  /**
   * Verify a segment, not the whole trail (an evidence bundle): the signed checkpoint the input
   * starts after. Checkpoints then go on at its seq + 1, links at its chainSeq + 1 from its
   * chainHead, access hashes from its accessHash. Absent: from the start of the trail.
   */
  anchor?: SignedCheckpoint | undefined;
}

interface Failure {
  problem: AuditProblem;
  detail: string;
  firstBadEventId?: string;
  chainSeq?: number;
  checkpointSeq?: number;
  accessEventId?: number;
}

class Stop extends Error {
  constructor(readonly failure: Failure) {
    super(failure.detail);
  }
}

const fail = (f: Failure): never => {
  throw new Stop(f);
};

/** Where each covered access event id belongs, and what each checkpoint has seen so far. */
interface AccessSlot {
  checkpoint: StoredCheckpoint;
  /** The range of the checkpoint's own accessRanges being read, and the id expected next in it. */
  range: number;
  next: number;
  seen: number;
  hash: Hash;
}

function checkCheckpoints(cps: readonly StoredCheckpoint[], keys: readonly TrustedKey[], anchor: SignedCheckpoint | undefined): void {
  if (anchor && !signatureValid(anchor, keys)) {
    fail({ problem: 'bad_signature', checkpointSeq: anchor.checkpoint.seq, detail: `checkpoint #${anchor.checkpoint.seq}, where this part of the trail starts, has no valid signature` });
  }
  const base = anchor?.checkpoint.seq ?? 0;
  let prev: SignedCheckpoint | undefined = anchor;
  for (const [i, cp] of cps.entries()) {
    const c = cp.checkpoint;
    if (!signatureValid(cp, keys)) {
      const known = keys.some((k) => k.keyId === c.keyId);
      fail({
        problem: 'bad_signature',
        checkpointSeq: c.seq,
        detail: known ? `checkpoint #${c.seq} has a signature that does not verify` : `checkpoint #${c.seq} is signed by key ${c.keyId}, which is not trusted`,
      });
    }
    if (c.seq !== base + i + 1) fail({ problem: 'checkpoint_mismatch', checkpointSeq: base + i + 1, detail: `checkpoint #${base + i + 1} is missing` });
    const expectedPrev = prev ? checkpointHash(prev.checkpoint) : ZERO_HASH;
    if (c.prevHash !== expectedPrev) {
      fail({ problem: 'checkpoint_mismatch', checkpointSeq: c.seq, detail: `checkpoint #${c.seq} does not follow checkpoint #${c.seq - 1}` });
    }
    const p = prev?.checkpoint;
    if (p && (c.chainSeq < p.chainSeq || c.accessCount < p.accessCount)) {
      fail({ problem: 'checkpoint_mismatch', checkpointSeq: c.seq, detail: `checkpoint #${c.seq} covers less than checkpoint #${p.seq}` });
    }
    const covered = cp.accessRanges.reduce((n, [from, to]) => n + (to - from + 1), 0);
    if (covered !== c.accessCount - (p?.accessCount ?? 0)) {
      fail({ problem: 'access_log_mismatch', checkpointSeq: c.seq, detail: `checkpoint #${c.seq} lists other access events than it counts` });
    }
    prev = cp;
  }
}

function checkWitnesses(cps: readonly StoredCheckpoint[], witnesses: readonly SignedCheckpoint[], keys: readonly TrustedKey[], anchor: SignedCheckpoint | undefined): void {
  const base = anchor?.checkpoint.seq ?? 0;
  for (const w of [...witnesses].sort((a, b) => a.checkpoint.seq - b.checkpoint.seq)) {
    const seq = w.checkpoint.seq;
    if (!signatureValid(w, keys)) fail({ problem: 'bad_signature', checkpointSeq: seq, detail: `the kept copy of checkpoint #${seq} has no valid signature` });
    // Before a segment's anchor: not in the input, nothing to compare.
    if (seq < base) continue;
    const stored = seq === base ? anchor : cps[seq - 1 - base];
    if (!stored) {
      const first = base + cps.length + 1;
      fail({ problem: 'truncated', checkpointSeq: first, detail: `checkpoint #${first} (and up to #${seq}, kept outside the database) is missing from the trail` });
    } else if (!sameCheckpoint(stored, w)) {
      fail({ problem: 'checkpoint_mismatch', checkpointSeq: seq, detail: `checkpoint #${seq} differs from the copy kept outside the database` });
    }
  }
}

/** Verifies the trail; see the module comment for what is checked. Never throws for a damaged trail: it reports. */
export async function verifyAuditTrail(input: VerifyInput): Promise<AuditVerifyResult> {
  const cps = input.checkpoints;
  const anchor = input.anchor;
  const newest = cps.at(-1) ?? anchor;
  const ref: CheckpointRef | null = newest
    ? { seq: newest.checkpoint.seq, signedAt: newest.checkpoint.signedAt, keyId: newest.checkpoint.keyId }
    : null;
  let checked = 0;
  let accessChecked = 0;
  let lastSeq = anchor?.checkpoint.chainSeq ?? 0;
  let accessUnsealed = 0;
  const counts = () => ({
    checked,
    accessChecked,
    unsealed: input.unlinked + Math.max(0, lastSeq - (newest?.checkpoint.chainSeq ?? 0)),
    accessUnsealed,
    checkpoint: ref,
  });

  try {
    checkCheckpoints(cps, input.trustedKeys, anchor);
    checkWitnesses(cps, input.witnesses, input.trustedKeys, anchor);

    // 3. The chain, and the head at every checkpoint.
    const heads = new Map<number, StoredCheckpoint[]>();
    for (const cp of cps) heads.set(cp.checkpoint.chainSeq, [...(heads.get(cp.checkpoint.chainSeq) ?? []), cp]);
    const startSeq = lastSeq;
    const startHead = anchor?.checkpoint.chainHead ?? ZERO_HASH;
    for (const cp of heads.get(startSeq) ?? []) {
      if (cp.checkpoint.chainHead !== startHead) {
        fail({ problem: 'checkpoint_mismatch', checkpointSeq: cp.checkpoint.seq, chainSeq: startSeq, detail: startSeq === 0 ? `checkpoint #${cp.checkpoint.seq} names a head for an empty chain` : `checkpoint #${cp.checkpoint.seq} names another head for link ${startSeq} than checkpoint #${anchor?.checkpoint.seq ?? 0}` });
      }
    }
    let prev = startHead;
    for await (const link of input.links) {
      const expected = lastSeq + 1;
      if (link.seq !== expected) {
        fail({ problem: 'chain_break', chainSeq: expected, firstBadEventId: link.eventId, detail: `link ${expected} is missing: the chain goes on at ${link.seq}` });
      }
      if (link.prevHash !== prev) fail({ problem: 'chain_break', chainSeq: link.seq, firstBadEventId: link.eventId, detail: `link ${link.seq} does not follow link ${link.seq - 1}` });
      if (!link.event) fail({ problem: 'missing_event', chainSeq: link.seq, firstBadEventId: link.eventId, detail: `event ${link.eventId} of link ${link.seq} is gone` });
      else if (linkHash(prev, link.seq, link.event) !== link.hash) {
        fail({ problem: 'hash_mismatch', chainSeq: link.seq, firstBadEventId: link.eventId, detail: `event ${link.eventId} does not match its link ${link.seq}` });
      }
      for (const cp of heads.get(link.seq) ?? []) {
        if (cp.checkpoint.chainHead !== link.hash) {
          fail({ problem: 'checkpoint_mismatch', checkpointSeq: cp.checkpoint.seq, chainSeq: link.seq, firstBadEventId: link.eventId, detail: `the chain at link ${link.seq} is not what checkpoint #${cp.checkpoint.seq} signed` });
        }
      }
      prev = link.hash;
      lastSeq = link.seq;
      checked++;
    }
    if (newest && newest.checkpoint.chainSeq > lastSeq) {
      const first = cps.find((cp) => cp.checkpoint.chainSeq > lastSeq) ?? newest;
      fail({ problem: 'truncated', chainSeq: lastSeq + 1, checkpointSeq: first.checkpoint.seq, detail: `the chain ends at link ${lastSeq}, but checkpoint #${first.checkpoint.seq} signed it up to link ${first.checkpoint.chainSeq}` });
    }

    // 4. The access log: each checkpoint's rows, in id order, hashed as one digest.
    const ranges = cps.flatMap((cp) => cp.accessRanges.map(([from, to]) => ({ from, to, seq: cp.checkpoint.seq }))).sort((a, b) => a.from - b.from);
    const slots = new Map<number, AccessSlot>();
    for (const cp of cps) {
      const first = cp.accessRanges[0];
      slots.set(cp.checkpoint.seq, { checkpoint: cp, range: 0, next: first ? first[0] : Infinity, seen: 0, hash: createHash('sha256') });
    }
    const missing = (slot: AccessSlot): never =>
      fail({ problem: 'access_log_mismatch', checkpointSeq: slot.checkpoint.checkpoint.seq, accessEventId: slot.next, detail: `access event ${slot.next}, covered by checkpoint #${slot.checkpoint.checkpoint.seq}, is gone` });
    let r = 0;
    for await (const row of input.access) {
      while (r < ranges.length && ranges[r]!.to < row.id) r++;
      const range = ranges[r];
      if (!range || row.id < range.from) {
        accessUnsealed++; // not in any checkpoint yet
        continue;
      }
      const slot = slots.get(range.seq)!;
      if (row.id !== slot.next) missing(slot);
      slot.hash.update(accessLine(row));
      slot.seen++;
      accessChecked++;
      const own = slot.checkpoint.accessRanges;
      if (row.id < own[slot.range]![1]) slot.next = row.id + 1;
      else {
        slot.range++;
        slot.next = own[slot.range]?.[0] ?? Infinity;
      }
    }
    let accessHash = anchor?.checkpoint.accessHash ?? ZERO_HASH;
    for (const cp of cps) {
      const slot = slots.get(cp.checkpoint.seq)!;
      if (slot.next !== Infinity) missing(slot);
      accessHash = chainAccessHash(accessHash, slot.hash.digest('hex'));
      if (accessHash !== cp.checkpoint.accessHash) {
        const firstId = cp.accessRanges[0]?.[0];
        fail({ problem: 'access_log_mismatch', checkpointSeq: cp.checkpoint.seq, ...(firstId !== undefined ? { accessEventId: firstId } : {}), detail: `the access events of checkpoint #${cp.checkpoint.seq} are not as they were signed` });
      }
    }

    // 5. Freshness: only what was written after the newest checkpoint makes it stale.
    const grown = counts().unsealed > 0 || accessUnsealed > 0;
    const age = newest ? input.now.getTime() - Date.parse(newest.checkpoint.signedAt) : Infinity;
    if (grown && age > 2 * input.intervalMs) {
      fail({
        problem: 'stale_checkpoint',
        ...(newest ? { checkpointSeq: newest.checkpoint.seq } : {}),
        detail: newest ? `the newest checkpoint (#${newest.checkpoint.seq}) is older than two intervals` : 'the trail has no signed checkpoint',
      });
    }
    return { ok: true, ...counts() };
  } catch (err) {
    if (!(err instanceof Stop)) throw err;
    const f = err.failure;
    return {
      ok: false,
      ...counts(),
      problem: f.problem,
      detail: f.detail,
      ...(f.firstBadEventId !== undefined ? { firstBadEventId: f.firstBadEventId } : {}),
      ...(f.chainSeq !== undefined ? { chainSeq: String(f.chainSeq) } : {}),
      ...(f.checkpointSeq !== undefined ? { checkpointSeq: f.checkpointSeq } : {}),
      ...(f.accessEventId !== undefined ? { accessEventId: String(f.accessEventId) } : {}),
    };
  }
}
