// The hashes and signatures of the audit trail, computed by the API alone (the
// database stores them and is never asked for one). Every hash is SHA-256 over
// canonical JSON (shared/audit.ts), so an offline verifier rebuilds the same bytes.
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson, checkpointSignedBytes, type CheckpointBody, type SignedCheckpoint } from '../../../shared/audit';

export { ZERO_HASH } from '../../../shared/audit';

/** A row as the database gives it: row_to_json(row), timestamps in UTC. Every column is hashed. */
export type RowJson = Record<string, unknown>;

export const sha256hex = (text: string | Uint8Array): string => createHash('sha256').update(text).digest('hex');

/**
 * Columns added to the audit tables after rows were first sealed (migrations 007, 008, 009): hashed when they
 * hold a value, left out when null, so rows stored before a column existed keep their hashes.
 * Taking a value away still changes the hash, as the key was hashed.
 */
const LATER_COLUMNS = ['client_request_id', 'revert_of', 'detail', 'via'] as const;

function hashedRow(row: RowJson): RowJson {
  if (!LATER_COLUMNS.some((c) => c in row && row[c] === null)) return row;
  const out = { ...row };
  for (const c of LATER_COLUMNS) if (out[c] === null) delete out[c];
  return out;
}

/** A chain link's hash: SHA-256(prevHash | canonical {seq, event}), where event is the whole stored row. */
export function linkHash(prevHash: string, seq: number, event: RowJson): string {
  return sha256hex(`${prevHash}|${canonicalJson({ seq, event: hashedRow(event) })}`);
}

/** What one access event adds to its checkpoint's digest: the whole stored row. */
export const accessLine = (row: RowJson): string => `${canonicalJson(hashedRow(row))}\n`;

/** The access hash a checkpoint signs: SHA-256(previous accessHash | digest of its new rows). */
export const chainAccessHash = (prevAccessHash: string, digest: string): string => sha256hex(`${prevAccessHash}|${digest}`);

/** SHA-256 of a checkpoint's signed bytes: the next checkpoint's prevHash. */
export const checkpointHash = (checkpoint: CheckpointBody): string => sha256hex(checkpointSignedBytes(checkpoint));

/** A public key the verifier trusts, with its id. */
export interface TrustedKey {
  keyId: string;
  publicKey: KeyObject;
}

/** Key id: the first 16 bytes of SHA-256 over the raw 32-byte Ed25519 public key, hex. */
export function keyIdOf(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  if (publicKey.asymmetricKeyType !== 'ed25519') throw new Error('audit keys are Ed25519 keys');
  const { x } = publicKey.export({ format: 'jwk' });
  if (!x) throw new Error('not an Ed25519 public key');
  return sha256hex(Buffer.from(x, 'base64url')).slice(0, 32);
}

export function trustedKey(key: KeyObject | string): TrustedKey {
  const publicKey = typeof key === 'string' ? createPublicKey(key) : key.type === 'private' ? createPublicKey(key) : key;
  return { keyId: keyIdOf(publicKey), publicKey };
}

export function signCheckpoint(checkpoint: CheckpointBody, privateKey: KeyObject): SignedCheckpoint {
  return { checkpoint, signature: sign(null, checkpointSignedBytes(checkpoint), privateKey).toString('base64url') };
}

/** True when the checkpoint's key is trusted and its signature verifies with it. */
export function signatureValid(signed: SignedCheckpoint, keys: readonly TrustedKey[]): boolean {
  const key = keys.find((k) => k.keyId === signed.checkpoint.keyId);
  if (!key) return false;
  try {
    return verify(null, checkpointSignedBytes(signed.checkpoint), key.publicKey, Buffer.from(signed.signature, 'base64url'));
  } catch {
    return false;
  }
}
