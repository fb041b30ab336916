// Signed checkpoints of the audit trail, and the canonical form they are signed in.
//
// The API signs a checkpoint (Ed25519) every interval while the trail grows and
// before every verification: the chain's last sequence number and head hash, the
// access log's count and running hash, the time, the previous checkpoint's hash
// and the signing key's id. A checkpoint verifies itself with the public key, so
// anyone who kept one (the external sink, a console, an auditor) can later tell
// whether the trail still contains it.
//
// Pure and dependency-free (zod only), so the API, the offline verifier and the
// console (WebCrypto Ed25519) build the same bytes.
import { z } from 'zod';

/** 64 zeros: the previous hash of the first link and the first checkpoint. */
export const ZERO_HASH = '0'.repeat(64);

export const Hex64 = z.string().regex(/^[0-9a-f]{64}$/);
/** The first 16 bytes of SHA-256 over the raw 32-byte Ed25519 public key, hex. */
export const KeyId = z.string().regex(/^[0-9a-f]{32}$/);

/** What is signed. Sequence numbers are JSON numbers (far below 2^53). */
export const CheckpointBody = z.strictObject({
  v: z.literal(1),
  /** 1, 2, 3, ... without a gap. */
  seq: z.int().min(1),
  /** The last chain link covered (0: the chain was empty). */
  chainSeq: z.int().min(0),
  /** That link's hash (ZERO_HASH when chainSeq is 0). */
  chainHead: Hex64,
  /** Access events covered by this checkpoint and all before it. */
  accessCount: z.int().min(0),
  /** SHA-256(previous accessHash | digest of the access events new in this checkpoint), hex; see accessDigest in api/src/audit/hash.ts. */
  accessHash: Hex64,
  signedAt: z.iso.datetime({ offset: true }),
  /** SHA-256 of the previous checkpoint's signed bytes (ZERO_HASH for seq 1). */
  prevHash: Hex64,
  keyId: KeyId,
});
export type CheckpointBody = z.infer<typeof CheckpointBody>;

/** A checkpoint and its Ed25519 signature over checkpointSignedBytes(checkpoint), base64url (64 bytes). */
export const SignedCheckpoint = z.strictObject({
  checkpoint: CheckpointBody,
  signature: z.string().regex(/^[A-Za-z0-9_-]{86}$/),
});
export type SignedCheckpoint = z.infer<typeof SignedCheckpoint>;

/** A JSON value as canonicalJson takes it. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * Canonical JSON (RFC 8785 style): object keys sorted by UTF-16 code units, no
 * whitespace, strings and numbers as JSON.stringify writes them. Used for every
 * hash and signature of the trail, so a verifier in any language can rebuild the bytes.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonicalJson: a number is not finite');
      return JSON.stringify(value);
    case 'string':
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
      const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
      entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
    }
    default:
      throw new TypeError(`canonicalJson: cannot encode a ${typeof value}`);
  }
}

/** Domain separation: these bytes can never be mistaken for another signed message. */
const CHECKPOINT_CONTEXT = 'cims-audit-checkpoint/v1\n';

/** The exact bytes that are signed (and hashed into the next checkpoint's prevHash). */
export function checkpointSignedBytes(checkpoint: CheckpointBody): Uint8Array {
  return new TextEncoder().encode(CHECKPOINT_CONTEXT + canonicalJson(checkpoint));
}

/** Two signed checkpoints are the same when their bodies and signatures are. */
export function sameCheckpoint(a: SignedCheckpoint, b: SignedCheckpoint): boolean {
  return a.signature === b.signature && canonicalJson(a.checkpoint) === canonicalJson(b.checkpoint);
}
