// The evidence bundle: one file an auditor can verify without the database or
// the network (GET /v1/audit/evidence, `npx cims-verify FILE`, docs/audit-evidence.md).
//
// NDJSON, one JSON object per line, in this order:
//   header      format, version, range asked for, when it was made, the trusted
//               public keys, the signed checkpoint the segment starts after
//   checkpoint  each signed checkpoint of the segment, ascending by seq
//   link        each chain link of the segment with its event row, ascending by seq
//   access      each access event the segment's checkpoints cover, ascending by id
//   end         the counts again: a file cut short has no end line
//
// The segment runs from checkpoint to checkpoint: from the last checkpoint before
// the range's first event to the first one at or after its last, so every event of
// the range sits between two signatures and the file verifies on its own.
import { z } from 'zod';
import { Hex64, KeyId, SignedCheckpoint } from './audit';

export const EVIDENCE_FORMAT = 'cims-audit-evidence';
export const EVIDENCE_VERSION = 1;
/** The content type of the bundle's HTTP answer. */
export const EVIDENCE_CONTENT_TYPE = 'application/x-ndjson';

/** The range of a bundle: events that occurred from..to (inclusive); either end open. */
export const EvidenceQuery = z.strictObject({ from: z.iso.datetime({ offset: true }).optional(), to: z.iso.datetime({ offset: true }).optional() });
export type EvidenceQuery = z.infer<typeof EvidenceQuery>;

/** A public key as a JWK (RFC 8037): `x` is the raw 32-byte Ed25519 key, base64url. */
export const EvidenceKey = z.strictObject({
  keyId: KeyId,
  jwk: z.strictObject({ kty: z.literal('OKP'), crv: z.literal('Ed25519'), x: z.string().regex(/^[A-Za-z0-9_-]{43}$/) }),
});
export type EvidenceKey = z.infer<typeof EvidenceKey>;

const Seq = z.int().min(0);
const Counts = { events: Seq, checkpoints: Seq, accessEvents: Seq };

export const EvidenceHeader = z.strictObject({
  type: z.literal('header'),
  format: z.literal(EVIDENCE_FORMAT),
  version: z.literal(EVIDENCE_VERSION),
  generatedAt: z.iso.datetime({ offset: true }),
  /** The range asked for (event times, inclusive); absent ends are open. */
  range: z.strictObject({ from: z.iso.datetime({ offset: true }).nullable(), to: z.iso.datetime({ offset: true }).nullable() }),
  /** The chain links in the file: after `anchor`'s chainSeq up to `to` (0 links: from > to). */
  chain: z.strictObject({ from: Seq, to: Seq }),
  /** The checkpoint interval the API used: a checkpoint older than two of these at generatedAt is stale. */
  intervalMs: z.int().min(1),
  /** The keys the API trusts; an auditor may bring their own instead (cims-verify --keys). */
  keys: z.array(EvidenceKey),
  /** The signed checkpoint the segment starts after; null when it starts at the beginning of the trail. */
  anchor: SignedCheckpoint.nullable(),
  ...Counts,
});
export type EvidenceHeader = z.infer<typeof EvidenceHeader>;

export const EvidenceCheckpoint = SignedCheckpoint.extend({
  type: z.literal('checkpoint'),
  /** Inclusive id ranges of the access events new in this checkpoint (as stored; accessCount and accessHash are signed). */
  accessRanges: z.array(z.tuple([z.int().min(1), z.int().min(1)])),
});
export type EvidenceCheckpoint = z.infer<typeof EvidenceCheckpoint>;

/** A stored row as the database gave it (every column, as hashed). */
const Row = z.record(z.string(), z.unknown());

export const EvidenceLink = z.strictObject({
  type: z.literal('link'),
  seq: z.int().min(1),
  eventId: z.string(),
  prevHash: Hex64,
  hash: Hex64,
  /** The event row; null when the database no longer holds it. */
  event: Row.nullable(),
});
export type EvidenceLink = z.infer<typeof EvidenceLink>;

export const EvidenceAccess = z.strictObject({
  type: z.literal('access'),
  row: Row.and(z.object({ id: z.int().min(1) })),
});
export type EvidenceAccess = z.infer<typeof EvidenceAccess>;

export const EvidenceEnd = z.strictObject({ type: z.literal('end'), ...Counts });
export type EvidenceEnd = z.infer<typeof EvidenceEnd>;

export const EvidenceLine = z.discriminatedUnion('type', [EvidenceHeader, EvidenceCheckpoint, EvidenceLink, EvidenceAccess, EvidenceEnd]);
export type EvidenceLine = z.infer<typeof EvidenceLine>;

/** One line of the file (JSON and a newline). */
export const evidenceLine = (line: EvidenceLine): string => `${JSON.stringify(line)}\n`;
