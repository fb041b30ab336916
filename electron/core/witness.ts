// The console as a witness of the audit trail. After every verification the
// main process checks the newest signed checkpoint against the keys in IT's
// policy (never keys from the API), remembers the newest one it verified, per
// issuer and API, in a file in the user's data folder, and on every later
// verification asks the API for that checkpoint again: it must still be there,
// byte for byte, and the trail's newest must not be older. A database
// administrator who cuts the trail back and rewrites the checkpoints can make
// the database and the API agree with each other, but not with this file.
//
// The file needs no secrecy (signed checkpoints verify themselves) and is never
// trusted as it is: each remembered checkpoint is verified again when read.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { AuditVerifyResult } from '../../shared/api';
import { checkpointSignedBytes, sameCheckpoint, SignedCheckpoint } from '../../shared/audit';
import { ed25519RawKey, type Policy } from '../../shared/config';
import type { AuditWitnessReport, WitnessedCheckpoint } from '../../shared/ipc';
import { endpoints } from '../../shared/http';
import type { ApiClient } from './api-client';
import type { Clock, LogSink } from './deps';
import { IpcFailure } from './errors';
import { errorCode } from './log';

export const WITNESS_FILE = 'audit-witness.json';

/** One remembered checkpoint: the API it came from, the checkpoint as signed, and when this console first verified it. */
const WitnessEntry = z.strictObject({
  issuer: z.string(),
  apiBaseUrl: z.string(),
  checkpoint: SignedCheckpoint,
  verifiedAt: z.iso.datetime({ offset: true }),
});
type WitnessEntry = z.infer<typeof WitnessEntry>;
const WitnessFile = z.strictObject({ v: z.literal(1), entries: z.array(WitnessEntry) });
type WitnessFile = z.infer<typeof WitnessFile>;

/** Where the remembered checkpoints live. */
export interface WitnessStore {
  read(): Promise<WitnessFile>;
  write(file: WitnessFile): Promise<void>;
}

/** The checkpoint with this number as the API holds it now; null when the API says it has none (404). */
export type FetchCheckpoint = (seq: number) => Promise<SignedCheckpoint | null>;

/** Checkpoints from the API through the contract's GET /v1/audit/checkpoints/:seq; a 404 is "not there". */
export function apiCheckpoints(api: Pick<ApiClient, 'call'>): FetchCheckpoint {
  return async (seq) => {
    try {
      return await api.call(endpoints['audit.checkpoint'], { params: { seq: String(seq) } });
    } catch (error) {
      if (error instanceof IpcFailure && error.error.code === 'not_found') return null;
      throw error;
    }
  };
}

export interface TrustedAuditKey {
  keyId: string;
  key: CryptoKey;
}

const hex = (bytes: ArrayBuffer): string => Buffer.from(bytes).toString('hex');

/** The policy's keys for WebCrypto, each with its key id: the first 16 bytes of SHA-256 over the raw 32-byte key (shared/audit.ts KeyId). */
export async function importAuditKeys(pems: readonly string[]): Promise<TrustedAuditKey[]> {
  return Promise.all(
    pems.map(async (pem) => {
      const raw = ed25519RawKey(pem);
      const digest = await crypto.subtle.digest('SHA-256', raw);
      const key = await crypto.subtle.importKey('raw', raw, { name: 'Ed25519' }, false, ['verify']);
      return { keyId: hex(digest.slice(0, 16)), key };
    }),
  );
}

type SignatureCheck = 'valid' | 'untrusted_key' | 'bad_signature';

/** Verifies a signed checkpoint's Ed25519 signature over its canonical bytes with the trusted key it names. */
export async function checkSignature(signed: SignedCheckpoint, keys: readonly TrustedAuditKey[]): Promise<SignatureCheck> {
  const trusted = keys.find((k) => k.keyId === signed.checkpoint.keyId);
  if (!trusted) return 'untrusted_key';
  const signature = Buffer.from(signed.signature, 'base64url');
  if (signature.length !== 64) return 'bad_signature';
  const ok = await crypto.subtle.verify('Ed25519', trusted.key, new Uint8Array(signature), new Uint8Array(checkpointSignedBytes(signed.checkpoint)));
  return ok ? 'valid' : 'bad_signature';
}

export interface WitnessDeps {
  policy: Pick<Policy, 'issuer' | 'apiBaseUrl' | 'auditPublicKeys'>;
  store: WitnessStore;
  fetchCheckpoint: FetchCheckpoint;
  clock: Clock;
  log: LogSink;
}

export interface AuditWitness {
  /** Checks the trail the API just verified against what this console has seen; remembers the newest checkpoint when all is well. */
  check(trail: AuditVerifyResult): Promise<AuditWitnessReport>;
}

export function createAuditWitness(deps: WitnessDeps): AuditWitness {
  const { policy, store, fetchCheckpoint, clock, log } = deps;
  let keys: Promise<TrustedAuditKey[]> | null = null;
  // One check at a time: two verifications must not both read the file and write over each other.
  let queue: Promise<unknown> = Promise.resolve();
  const isThisApi = (e: WitnessEntry) => e.issuer === policy.issuer && e.apiBaseUrl === policy.apiBaseUrl;

  const witnessed = (e: WitnessEntry): WitnessedCheckpoint => ({
    seq: e.checkpoint.checkpoint.seq,
    signedAt: e.checkpoint.checkpoint.signedAt,
    keyId: e.checkpoint.checkpoint.keyId,
    verifiedAt: e.verifiedAt,
  });

  async function run(trail: AuditVerifyResult): Promise<AuditWitnessReport> {
    if (policy.auditPublicKeys.length === 0) return { status: 'not_configured' };
    keys ??= importAuditKeys(policy.auditPublicKeys);
    const trusted = await keys;

    const file = await store.read();
    const stored = file.entries.find(isThisApi) ?? null;
    // The file is the user's to change: a remembered checkpoint counts only if its signature still verifies.
    let remembered: WitnessEntry | null = null;
    if (stored) {
      const check = await checkSignature(stored.checkpoint, trusted);
      if (check === 'valid') remembered = stored;
      else log.write('warn', 'audit.witness.remembered.unverifiable', { seq: stored.checkpoint.checkpoint.seq, check });
    }

    const newestRef = trail.checkpoint;
    if (remembered) {
      const seq = remembered.checkpoint.checkpoint.seq;
      const now = await fetchCheckpoint(seq);
      const reason = !now ? 'missing' : !sameCheckpoint(now, remembered.checkpoint) ? 'changed' : !newestRef || newestRef.seq < seq ? 'rolled_back' : null;
      if (reason) {
        log.write('error', 'audit.witness.damaged', { seq, reason });
        return { status: 'damaged', reason, remembered: witnessed(remembered) };
      }
    }
    if (!newestRef) return { status: 'ok', remembered: remembered ? witnessed(remembered) : null };

    const rememberedSeq = remembered?.checkpoint.checkpoint.seq ?? 0;
    const newest = newestRef.seq === rememberedSeq && remembered ? remembered.checkpoint : await fetchCheckpoint(newestRef.seq);
    const body = newest?.checkpoint;
    // The checkpoint verify reported must be the one the API hands out under its number.
    if (!newest || !body || body.seq !== newestRef.seq || body.keyId !== newestRef.keyId || Date.parse(body.signedAt) !== Date.parse(newestRef.signedAt)) {
      log.write('error', 'audit.witness.newest.mismatch', { seq: newestRef.seq });
      return { status: 'bad_signature', seq: newestRef.seq, keyId: newest?.checkpoint.keyId ?? newestRef.keyId };
    }
    const check = await checkSignature(newest, trusted);
    if (check !== 'valid') {
      log.write('error', `audit.witness.newest.${check}`, { seq: body.seq });
      return { status: check, seq: body.seq, keyId: body.keyId };
    }
    // A later checkpoint covers at least what an earlier one did.
    if (remembered && (body.chainSeq < remembered.checkpoint.checkpoint.chainSeq || body.accessCount < remembered.checkpoint.checkpoint.accessCount)) {
      log.write('error', 'audit.witness.damaged', { seq: rememberedSeq, reason: 'rolled_back' });
      return { status: 'damaged', reason: 'rolled_back', remembered: witnessed(remembered) };
    }

    // Remember only a trail the API found whole: a newer checkpoint over a damaged trail vouches for nothing.
    if (trail.ok && body.seq > rememberedSeq) {
      const entry: WitnessEntry = { issuer: policy.issuer, apiBaseUrl: policy.apiBaseUrl, checkpoint: newest, verifiedAt: new Date(clock.now()).toISOString() };
      try {
        await store.write({ v: 1, entries: [...file.entries.filter((e) => !isThisApi(e)), entry] });
      } catch (error) {
        // The check itself stands; only the memory did not move on, and the answer says which checkpoint is remembered.
        log.write('error', 'audit.witness.write.failed', { error: errorCode(error) });
        return { status: 'ok', remembered: remembered ? witnessed(remembered) : null };
      }
      log.write('info', 'audit.witness.remembered', { seq: body.seq });
      return { status: 'ok', remembered: witnessed(entry) };
    }
    return { status: 'ok', remembered: remembered ? witnessed(remembered) : null };
  }

  return {
    check(trail) {
      const result = queue.then(() => run(trail));
      queue = result.catch(() => undefined);
      return result;
    },
  };
}

const EMPTY: WitnessFile = { v: 1, entries: [] };

/** Remembered checkpoints in memory only (a core started without a data folder). */
export function memoryWitnessStore(): WitnessStore {
  let file = EMPTY;
  return {
    read: async () => file,
    write: async (next) => void (file = next),
  };
}

const isMissing = (error: unknown): boolean => (error as NodeJS.ErrnoException | null)?.code === 'ENOENT';

/** Remembered checkpoints in `<dir>/audit-witness.json`: written whole to a temporary file (0600), flushed, renamed over the old one. */
export function fileWitnessStore(dir: string, log: LogSink): WitnessStore {
  const path = join(dir, WITNESS_FILE);
  return {
    async read() {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (error) {
        if (isMissing(error)) return EMPTY;
        throw error;
      }
      try {
        return WitnessFile.parse(JSON.parse(text));
      } catch {
        // Unreadable: nothing remembered (the next verified checkpoint replaces it); never an entry taken on trust.
        log.write('warn', 'audit.witness.file.unreadable', {});
        return EMPTY;
      }
    },
    async write(file) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
      const handle = await open(tmp, 'wx', 0o600);
      try {
        await handle.writeFile(`${JSON.stringify(WitnessFile.parse(file), null, 2)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      try {
        await rename(tmp, path);
      } catch (error) {
        await rm(tmp, { force: true });
        throw error;
      }
      // The rename itself must survive a crash; directories cannot be flushed on Windows.
      const folder = await open(dir, 'r').catch(() => null);
      await folder?.sync().catch(() => undefined);
      await folder?.close();
    },
  };
}
