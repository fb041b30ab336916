// The evidence bundle (shared/evidence.ts): the API seals and checkpoints, asks
// the database which segment of the trail covers the range (which also writes
// the export's access event), and streams it page by page, so a bundle of any
// size never sits in memory.
import { z } from 'zod';
import { SignedCheckpoint } from '../../../shared/audit';
import {
  EVIDENCE_FORMAT,
  EVIDENCE_VERSION,
  EvidenceLink,
  evidenceLine,
  type EvidenceHeader,
  type EvidenceKey,
  type EvidenceLine,
} from '../../../shared/evidence';
import type { Actor, RequestContext } from '../db/store';
import { PAGE, type AuditCall } from './audit-store';
import type { TrustedKey } from './hash';
import type { AuditTrail } from './trail';

const SQL = {
  start: 'SELECT api.audit_evidence($1, $2, $3, $4, $5, $6, $7, $8::timestamptz, $9::timestamptz, $10) AS r',
  checkpoints: 'SELECT api.audit_evidence_checkpoints($1, $2, $3, $4, $5::bigint, $6::bigint, $7::integer) AS r',
  links: 'SELECT api.audit_verify_links($1, $2, $3, $4, $5::bigint, $6::integer) AS r',
  access: 'SELECT api.audit_verify_access($1, $2, $3, $4, $5::bigint, $6::integer) AS r',
} as const;

const Count = z.int().min(0);
const Start = z.strictObject({
  anchor: SignedCheckpoint.nullable(),
  chainFrom: z.int().min(1),
  chainTo: Count,
  checkpointTo: Count,
  events: Count,
  checkpoints: Count,
  accessEvents: Count,
});
type Start = z.infer<typeof Start>;
const Row = z.record(z.string(), z.unknown());
const Checkpoints = z.array(SignedCheckpoint.extend({ accessRanges: z.array(z.tuple([z.int(), z.int()])) }));
const Links = z.array(EvidenceLink.omit({ type: true }));
const Access = z.array(Row.and(z.object({ id: z.int() })));

export interface EvidenceRange {
  from?: string | undefined;
  to?: string | undefined;
}

/** A bundle that has started: its counts (fixed, and logged, before the first byte) and its lines. */
export interface EvidenceBundle {
  events: number;
  checkpoints: number;
  accessEvents: number;
  /** Each chunk one or more whole lines. */
  chunks: AsyncGenerator<string>;
}

/** A public key as the bundle carries it. */
export function evidenceKey(key: TrustedKey): EvidenceKey {
  const { x } = key.publicKey.export({ format: 'jwk' });
  if (!x) throw new Error('not an Ed25519 public key');
  return { keyId: key.keyId, jwk: { kty: 'OKP', crv: 'Ed25519', x } };
}

/** Adds an inclusive id range to ascending, merged runs (consecutive checkpoints' ranges are mostly adjacent). */
function addRun(runs: [number, number][], [from, to]: [number, number]): void {
  const last = runs.at(-1);
  if (last && from <= last[1] + 1 && from >= last[0]) last[1] = Math.max(last[1], to);
  else {
    runs.push([from, to]);
    // A late commit can put a range before one already seen: keep the runs ascending and merged.
    if (last && from < last[0]) {
      runs.sort((a, b) => a[0] - b[0]);
      for (let i = runs.length - 1; i > 0; i--) {
        const a = runs[i - 1]!;
        const b = runs[i]!;
        if (b[0] <= a[1] + 1) {
          a[1] = Math.max(a[1], b[1]);
          runs.splice(i, 1);
        }
      }
    }
  }
}

/**
 * Seals and checkpoints, fixes the bundle's segment and writes its access event (a refusal throws
 * here, before the first byte); the lines are read as they are sent. `onError`: a checkpoint round
 * that failed (the bundle then ends at the newest checkpoint there is).
 */
export async function startEvidence(
  trail: AuditTrail,
  call: AuditCall,
  actor: Actor,
  ctx: RequestContext,
  range: EvidenceRange,
  onError: (err: unknown) => void,
): Promise<EvidenceBundle> {
  const who = [actor.sub, actor.name, actor.roles, actor.scopes];
  // Seal and checkpoint first, as a verification does, so the range's newest events are covered.
  // Who may export is checked by the database in `start`, before any row is read.
  const round = await trail.checkpointNow().catch((err: unknown) => {
    onError(err);
    return null;
  });
  if (round?.status === 'refused') onError(new Error(`audit checkpoint refused: ${round.reason}`));
  const generatedAt = new Date().toISOString();
  const start: Start = Start.parse(
    await call('auditEvidence', SQL.start, [...who, ctx.requestId, ctx.clientAddress, ctx.appVersion, range.from ?? null, range.to ?? null, ctx.clientRequestId ?? null]),
  );
  const header: EvidenceHeader = {
    type: 'header',
    format: EVIDENCE_FORMAT,
    version: EVIDENCE_VERSION,
    generatedAt,
    range: { from: range.from ?? null, to: range.to ?? null },
    chain: { from: start.chainFrom, to: start.chainTo },
    intervalMs: trail.intervalMs,
    keys: trail.trustedKeys.map(evidenceKey),
    anchor: start.anchor,
    events: start.events,
    checkpoints: start.checkpoints,
    accessEvents: start.accessEvents,
  };

  async function* chunks(): AsyncGenerator<string> {
    yield evidenceLine(header);
    const lines = (items: EvidenceLine[]) => items.map(evidenceLine).join('');
    const counts = { events: 0, checkpoints: 0, accessEvents: 0 };

    const runs: [number, number][] = [];
    for (let after = start.anchor?.checkpoint.seq ?? 0; after < start.checkpointTo; ) {
      const page = Checkpoints.parse(await call('auditEvidenceCheckpoints', SQL.checkpoints, [...who, after, start.checkpointTo, PAGE]));
      if (page.length === 0) break; // the rest is gone: the verifier reports it
      for (const cp of page) for (const r of cp.accessRanges) addRun(runs, r);
      counts.checkpoints += page.length;
      yield lines(page.map((cp) => ({ type: 'checkpoint', ...cp })));
      after = page.at(-1)!.checkpoint.seq;
    }

    for (let after = start.chainFrom - 1; after < start.chainTo; ) {
      const page = Links.parse(await call('auditVerifyLinks', SQL.links, [...who, after, Math.min(PAGE, start.chainTo - after)]));
      const inSegment = page.filter((l) => l.seq <= start.chainTo);
      counts.events += inSegment.length;
      if (inSegment.length) yield lines(inSegment.map((l) => ({ type: 'link', ...l })));
      if (inSegment.length < page.length || page.length === 0) break;
      after = page.at(-1)!.seq;
    }

    // Only the access events the segment's checkpoints cover; at most `to - after` ids fit in a run.
    for (const [from, to] of runs) {
      for (let after = from - 1; after < to; ) {
        const page = Access.parse(await call('auditVerifyAccess', SQL.access, [...who, after, Math.min(PAGE, to - after)]));
        const inRun = page.filter((row) => row.id <= to);
        counts.accessEvents += inRun.length;
        if (inRun.length) yield lines(inRun.map((row) => ({ type: 'access', row })));
        if (inRun.length < page.length || page.length === 0) break;
        after = page.at(-1)!.id;
      }
    }
    yield evidenceLine({ type: 'end', ...counts });
  }

  return { events: start.events, checkpoints: start.checkpoints, accessEvents: start.accessEvents, chunks: chunks() };
}
