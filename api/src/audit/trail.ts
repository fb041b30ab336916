// The API's side of the audit trail's integrity: it seals the chain and signs a
// checkpoint every interval while the trail grows and before every verification
// (and export), writes each checkpoint to the database and to the external sink,
// and verifies the trail from rows with api/src/audit/verify.ts.
import { createHash, type KeyObject } from 'node:crypto';
import { ZERO_HASH, type CheckpointBody, type SignedCheckpoint } from '../../../shared/audit';
import type { AuditVerifyResult } from '../../../shared/api';
import type { Actor } from '../db/store';
import type { AuditRows } from './audit-store';
import { accessLine, chainAccessHash, checkpointHash, keyIdOf, signCheckpoint, trustedKey, type TrustedKey } from './hash';
import type { CheckpointSink } from './sink';
import { verifyAuditTrail } from './verify';

export const DEFAULT_CHECKPOINT_INTERVAL_MS = 60_000;

export interface AuditConfig {
  /** Ed25519 private key (from CIMS_AUDIT_SIGNING_KEY); never stored in the database. */
  signingKey: KeyObject;
  /** Keys whose checkpoints verify, besides the signing key's own (older keys after a rotation). */
  trustedKeys?: readonly TrustedKey[];
  sink: CheckpointSink;
  /** How often to checkpoint while the trail grows (default one minute); verification calls a checkpoint stale after two. */
  intervalMs?: number;
}

/** What one round of sealing and checkpointing did. */
export type CheckpointOutcome =
  | { status: 'signed'; checkpoint: SignedCheckpoint }
  /** Nothing written since the last checkpoint. */
  | { status: 'unchanged'; checkpoint: SignedCheckpoint | null }
  /** Another API instance holds the sealing lock: skipped, the next round tries again. */
  | { status: 'busy' }
  /** The chain no longer holds the last checkpoint's head: nothing is signed on top of it (verify says what happened). */
  | { status: 'refused'; reason: string };

/** Maximal runs of consecutive ids, ascending: [[from, to], ...]. */
function runs(ids: number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const id of ids) {
    const last = out.at(-1);
    if (last && id === last[1] + 1) last[1] = id;
    else out.push([id, id]);
  }
  return out;
}

export class AuditTrail {
  readonly intervalMs: number;
  readonly keyId: string;
  readonly trustedKeys: readonly TrustedKey[];
  private tail: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly rows: AuditRows,
    private readonly config: AuditConfig,
    private readonly onBackgroundError: (err: unknown) => void = () => undefined,
  ) {
    this.intervalMs = config.intervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS;
    this.keyId = keyIdOf(config.signingKey);
    const own = trustedKey(config.signingKey);
    this.trustedKeys = [own, ...(config.trustedKeys ?? []).filter((k) => k.keyId !== own.keyId)];
  }

  /** Starts the background checkpoints (one each interval; a round that is still running makes the next one skip). */
  start(): void {
    if (this.timer || this.stopped) return;
    let running = false;
    this.timer = setInterval(() => {
      if (running) return;
      running = true;
      this.checkpointNow()
        .then((o) => {
          if (o.status === 'refused') this.onBackgroundError(new Error(`audit checkpoint refused: ${o.reason}`));
        })
        .catch((err: unknown) => this.onBackgroundError(err))
        .finally(() => {
          running = false;
        });
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a round in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.tail.catch(() => undefined);
  }

  /**
   * Seals what has committed and signs a checkpoint of it, if anything was written since the
   * last one: what verification and exports call first. Never waits for another instance's
   * lock; rounds of this process run one after another.
   */
  checkpointNow(): Promise<CheckpointOutcome> {
    const run = this.tail.then(() => this.round());
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async round(): Promise<CheckpointOutcome> {
    await this.rows.seal();
    const state = await this.rows.checkpointState();
    const last = state.last;
    // The sink knows a newer checkpoint than the database: the database lost checkpoints; sign nothing over that.
    const kept = await this.config.sink.latest();
    if (kept && kept.checkpoint.seq > (last?.checkpoint.seq ?? 0)) {
      return { status: 'refused', reason: `the database lacks checkpoint #${kept.checkpoint.seq}, which the sink holds` };
    }
    // A checkpoint the sink missed (it failed after the database took it) is written now.
    if (last) await this.config.sink.put({ checkpoint: last.checkpoint, signature: last.signature });
    const head = state.head ?? { seq: 0, hash: ZERO_HASH };
    if (last) {
      const c = last.checkpoint;
      if (head.seq < c.chainSeq || (c.chainSeq > 0 && state.lastHeadHash !== c.chainHead)) {
        return { status: 'refused', reason: `the chain no longer holds link ${c.chainSeq} as checkpoint #${c.seq} signed it` };
      }
      if (head.seq === c.chainSeq && state.pendingAccess === 0) return { status: 'unchanged', checkpoint: last };
    } else if (head.seq === 0 && state.pendingAccess === 0) {
      return { status: 'unchanged', checkpoint: null };
    }

    const digest = createHash('sha256');
    const ids: number[] = [];
    for await (const row of this.rows.accessPending()) {
      digest.update(accessLine(row));
      ids.push(row.id);
    }
    const body: CheckpointBody = {
      v: 1,
      seq: (last?.checkpoint.seq ?? 0) + 1,
      chainSeq: head.seq,
      chainHead: head.hash,
      accessCount: (last?.checkpoint.accessCount ?? 0) + ids.length,
      accessHash: chainAccessHash(last?.checkpoint.accessHash ?? ZERO_HASH, digest.digest('hex')),
      signedAt: new Date().toISOString(),
      prevHash: last ? checkpointHash(last.checkpoint) : ZERO_HASH,
      keyId: this.keyId,
    };
    const signed = signCheckpoint(body, this.config.signingKey);
    const stored = await this.rows.addCheckpoint(signed.checkpoint, signed.signature, runs(ids));
    if (stored === 'busy') return { status: 'busy' };
    if (stored === 'conflict') return { status: 'busy' }; // another instance signed this seq first
    await this.config.sink.put(signed);
    return { status: 'signed', checkpoint: signed };
  }

  /** Verifies the whole trail from its rows, after sealing and checkpointing what has committed. */
  async verify(actor: Actor): Promise<AuditVerifyResult> {
    // Who may verify is checked by the database before any row is read (verifyState); a
    // checkpoint round first is harmless either way and makes the newest checkpoint fresh.
    const round = await this.checkpointNow().catch((err: unknown) => {
      this.onBackgroundError(err);
      return null;
    });
    if (round?.status === 'refused') this.onBackgroundError(new Error(`audit checkpoint refused: ${round.reason}`));
    // The sink first: a checkpoint signed after this read is not yet expected in the database.
    const witness = await this.config.sink.latest();
    const { checkpoints, unlinked } = await this.rows.verifyState(actor);
    return verifyAuditTrail({
      links: this.rows.links(actor),
      checkpoints,
      access: this.rows.access(actor),
      witnesses: witness ? [witness] : [],
      trustedKeys: this.trustedKeys,
      unlinked,
      now: new Date(),
      intervalMs: this.intervalMs,
    });
  }

  checkpoint(actor: Actor, seq: number): Promise<SignedCheckpoint> {
    return this.rows.checkpoint(actor, seq);
  }
}
