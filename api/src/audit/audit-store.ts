// The audit trail's rows, through the database's api.audit_* functions: sealing
// (the API computes each link's hash and stores it), the checkpoint rows, and the
// rows verification reads. Nothing here asks the database for a hash or a verdict.
import { z } from 'zod';
import { Hex64, SignedCheckpoint, type CheckpointBody } from '../../../shared/audit';
import type { Actor } from '../db/store';
import { linkHash, ZERO_HASH, type RowJson } from './hash';
import type { AccessRow, ChainRow, StoredCheckpoint } from './verify';

/** One `SELECT api.<fn>(...) AS r` call, returning r (the store's connection, as cims_api). */
export type AuditCall = (name: string, text: string, values: unknown[]) => Promise<unknown>;

const SQL = {
  sealPending: 'SELECT api.audit_seal_pending($1::integer) AS r',
  sealLink: 'SELECT api.audit_seal_link($1::bigint, $2::jsonb) AS r',
  checkpointState: 'SELECT api.audit_checkpoint_state() AS r',
  accessPending: 'SELECT api.audit_access_pending($1::bigint, $2::integer) AS r',
  checkpointAdd: 'SELECT api.audit_checkpoint_add($1::jsonb, $2::text, $3::jsonb) AS r',
  checkpoint: 'SELECT api.audit_checkpoint($1, $2, $3, $4, $5::bigint) AS r',
  verifyState: 'SELECT api.audit_verify_state($1, $2, $3, $4) AS r',
  verifyLinks: 'SELECT api.audit_verify_links($1, $2, $3, $4, $5::bigint, $6::integer) AS r',
  verifyAccess: 'SELECT api.audit_verify_access($1, $2, $3, $4, $5::bigint, $6::integer) AS r',
} as const;

/** Events sealed per round trip. */
export const SEAL_BATCH = 10_000;
/** Rows per page when checkpointing and verifying. */
export const PAGE = 10_000;

// Rows are checked for shape only (an object; an access row's id an integer): they are hashed
// as they come, and a full parse of every column would cost more than the hashing.
const isRow = (v: unknown): v is RowJson => typeof v === 'object' && v !== null && !Array.isArray(v);
const Row = z.custom<RowJson>(isRow, 'a row');
const AccessRowShape = z.custom<AccessRow>((v) => isRow(v) && Number.isSafeInteger(v.id), 'an access row');
const Head = z.strictObject({ seq: z.int().min(1), hash: Hex64 }).nullable();
const SealPending = z.strictObject({ head: Head, events: z.array(z.strictObject({ id: z.string(), row: Row })) });
const Stored = SignedCheckpoint.extend({ accessRanges: z.array(z.tuple([z.int(), z.int()])) });
const CheckpointState = z.strictObject({
  head: Head,
  last: Stored.nullable(),
  lastHeadHash: Hex64.nullable(),
  pendingAccess: z.int().min(0),
});
export type CheckpointState = z.infer<typeof CheckpointState>;
const Access = z.array(AccessRowShape);
const VerifyState = z.strictObject({ checkpoints: z.array(Stored), unlinked: z.int().min(0) });
const Links = z.array(
  z.strictObject({ seq: z.int().min(1), eventId: z.string(), prevHash: z.string(), hash: z.string(), event: Row.nullable() }),
);

const actorParams = (a: Actor): unknown[] => [a.sub, a.name, a.roles, a.scopes];

/** Keyset pages of PAGE rows, each requested as soon as the previous one arrived. */
async function* pages<T>(read: (after: number) => Promise<T[]>, key: (row: T) => number): AsyncGenerator<T> {
  // A page read ahead may fail after the reader stopped (verification stops at the first problem):
  // handled here so it is never an unhandled rejection; awaiting it still throws.
  const ahead = (after: number) => {
    const p = read(after);
    p.catch(() => undefined);
    return p;
  };
  let next = ahead(0);
  for (;;) {
    const rows = await next;
    const last = rows.at(-1);
    const more = rows.length === PAGE && last !== undefined;
    if (more) next = ahead(key(last));
    yield* rows;
    if (!more) return;
  }
}

export class AuditRows {
  private sealTail: Promise<number> = Promise.resolve(0);

  /** `call` is public for the evidence bundle's reads (src/audit/evidence.ts), which go through the same connection. */
  constructor(readonly call: AuditCall) {}

  /**
   * Links every committed unsealed event into the chain; returns how many were linked. Calls
   * run one after another in this process; another process holding the lock makes this one
   * skip (return what it did so far) instead of waiting.
   */
  seal(): Promise<number> {
    const run = this.sealTail.then(async () => {
      let total = 0;
      for (;;) {
        const { head, events } = SealPending.parse(await this.call('auditSealPending', SQL.sealPending, [SEAL_BATCH]));
        if (events.length === 0) return total;
        let prev = head?.hash ?? ZERO_HASH;
        let seq = head?.seq ?? 0;
        const links = events.map((e) => {
          seq += 1;
          const hash = linkHash(prev, seq, e.row);
          const link = { seq, eventId: e.id, prevHash: prev, hash };
          prev = hash;
          return link;
        });
        const n = z.int().parse(await this.call('auditSealLink', SQL.sealLink, [head?.seq ?? 0, JSON.stringify(links)]));
        if (n === -1) return total; // another sealer is at it: its round covers these
        if (n === -2) continue; // another sealer came first: read the new head
        total += n;
        if (events.length < SEAL_BATCH) return total;
      }
    });
    this.sealTail = run.catch(() => 0);
    return run;
  }

  /** Resolves when no seal of this process is running. */
  idle(): Promise<unknown> {
    return this.sealTail;
  }

  async checkpointState(): Promise<CheckpointState> {
    return CheckpointState.parse(await this.call('auditCheckpointState', SQL.checkpointState, []));
  }

  /** Committed access events waiting for a checkpoint, ascending by id, page by page. */
  async *accessPending(): AsyncGenerator<AccessRow> {
    let after = 0;
    for (;;) {
      const rows = Access.parse(await this.call('auditAccessPending', SQL.accessPending, [after, PAGE]));
      yield* rows;
      if (rows.length < PAGE) return;
      after = rows.at(-1)!.id;
    }
  }

  async addCheckpoint(body: CheckpointBody, signature: string, ranges: [number, number][]): Promise<'ok' | 'busy' | 'conflict'> {
    return z
      .enum(['ok', 'busy', 'conflict'])
      .parse(await this.call('auditCheckpointAdd', SQL.checkpointAdd, [JSON.stringify(body), signature, JSON.stringify(ranges)]));
  }

  async checkpoint(actor: Actor, seq: number): Promise<SignedCheckpoint> {
    return SignedCheckpoint.parse(await this.call('auditCheckpoint', SQL.checkpoint, [...actorParams(actor), seq]));
  }

  /** The stored checkpoints and the count of events without a link; refuses anyone but a support lead. */
  async verifyState(actor: Actor): Promise<{ checkpoints: StoredCheckpoint[]; unlinked: number }> {
    return VerifyState.parse(await this.call('auditVerifyState', SQL.verifyState, actorParams(actor)));
  }

  /** Chain links with their events, ascending by seq; the next page is read while this one is hashed. */
  links(actor: Actor): AsyncGenerator<ChainRow> {
    return pages(
      (after) => this.call('auditVerifyLinks', SQL.verifyLinks, [...actorParams(actor), after, PAGE]).then((r) => Links.parse(r)),
      (row) => row.seq,
    );
  }

  /** Access events, ascending by id; the next page is read while this one is hashed. */
  access(actor: Actor): AsyncGenerator<AccessRow> {
    return pages(
      (after) => this.call('auditVerifyAccess', SQL.verifyAccess, [...actorParams(actor), after, PAGE]).then((r) => Access.parse(r)),
      (row) => row.id,
    );
  }
}
