// The console as a witness: real Ed25519 keys (node:crypto), the real file in a
// temporary folder, and checkpoints fetched through the real API client from a
// small HTTP server on 127.0.0.1 that answers as the contract says (200 with a
// SignedCheckpoint, 404 problem when there is none).
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AuditVerifyResult } from '../../shared/api';
import { checkpointSignedBytes, SignedCheckpoint, ZERO_HASH, type CheckpointBody } from '../../shared/audit';
import { Policy } from '../../shared/config';
import { ApiClient } from './api-client';
import type { LogFields } from './deps';
import { EventHub } from './events';
import { apiCheckpoints, createAuditWitness, fileWitnessStore, importAuditKeys, WITNESS_FILE, type AuditWitness } from './witness';

interface TestKey {
  privateKey: KeyObject;
  pem: string;
  keyId: string;
}
function newKey(): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
  return {
    privateKey,
    pem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    keyId: createHash('sha256').update(raw).digest().subarray(0, 16).toString('hex'),
  };
}

const apiKey = newKey();
const strangerKey = newKey();

function checkpoint(seq: number, key: TestKey = apiKey, over: Partial<CheckpointBody> = {}): SignedCheckpoint {
  const body: CheckpointBody = {
    v: 1,
    seq,
    chainSeq: seq * 10,
    chainHead: createHash('sha256').update(`head ${seq}`).digest('hex'),
    accessCount: seq * 3,
    accessHash: createHash('sha256').update(`access ${seq}`).digest('hex'),
    signedAt: new Date(Date.UTC(2026, 11, 1, 9, seq)).toISOString(),
    prevHash: ZERO_HASH,
    keyId: key.keyId,
    ...over,
  };
  return SignedCheckpoint.parse({ checkpoint: body, signature: sign(null, checkpointSignedBytes(body), key.privateKey).toString('base64url') });
}

/** What GET /v1/audit/verify answered: ok (or a problem), with the newest checkpoint it saw. */
function trail(newest: SignedCheckpoint | null, ok = true): AuditVerifyResult {
  const counts = {
    checked: 120,
    accessChecked: 40,
    unsealed: 0,
    accessUnsealed: 0,
    checkpoint: newest ? { seq: newest.checkpoint.seq, signedAt: newest.checkpoint.signedAt, keyId: newest.checkpoint.keyId } : null,
  };
  return ok ? { ok: true, ...counts } : { ok: false, ...counts, problem: 'hash_mismatch', detail: 'An event does not hash to its link.' };
}

// The API's checkpoints as the database holds them now.
const held = new Map<number, SignedCheckpoint>();
const asked: string[] = [];
const server = createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  asked.push(path);
  const found = /^\/v1\/audit\/checkpoints\/([0-9]+)$/.exec(path);
  const cp = found ? held.get(Number(found[1])) : undefined;
  if (cp) return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(cp));
  res
    .writeHead(404, { 'content-type': 'application/problem+json' })
    .end(JSON.stringify({ type: 'about:blank', title: 'Not Found', status: 404, detail: 'No such checkpoint' }));
});
let base = '';
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const logs: { event: string; fields: LogFields }[] = [];
const log = { write: (_level: 'info' | 'warn' | 'error', event: string, fields: LogFields) => void logs.push({ event, fields }) };
const START = Date.parse('2026-12-01T10:00:00Z');
let now = START;
const clock = { now: () => now };
let dir = '';

beforeEach(() => {
  held.clear();
  asked.length = 0;
  logs.length = 0;
  now = START;
  dir = mkdtempSync(join(tmpdir(), 'cims-witness-'));
});

function witness(options: { keys?: string[]; apiBaseUrl?: string; issuer?: string } = {}): AuditWitness {
  const policy = Policy.parse({
    issuer: options.issuer ?? 'http://127.0.0.1:9/realms/cims',
    clientId: 'cims-console',
    apiBaseUrl: options.apiBaseUrl ?? base,
    apiAudience: 'urn:cims:api',
    auditPublicKeys: options.keys ?? [apiKey.pem],
  });
  const api = new ApiClient({ baseUrl: base, fetch: (i, init) => fetch(i, init), tokens: { accessToken: async () => 'token' }, hub: new EventHub(), log, clock });
  return createAuditWitness({ policy, store: fileWitnessStore(dir, log), fetchCheckpoint: apiCheckpoints(api), clock, log });
}

const stored = () => JSON.parse(readFileSync(join(dir, WITNESS_FILE), 'utf8')) as { v: 1; entries: { apiBaseUrl: string; checkpoint: SignedCheckpoint; verifiedAt: string }[] };

/** The API has checkpoints 1..n (signed by the API's key), and verify reports the newest. */
function apiHolds(n: number): SignedCheckpoint {
  for (let s = 1; s <= n; s++) if (!held.has(s)) held.set(s, checkpoint(s));
  return held.get(n)!;
}

describe('policy keys', () => {
  it('gives each key the id the API signs with: the first 16 bytes of SHA-256 over the raw key, hex', async () => {
    const [imported] = await importAuditKeys([apiKey.pem]);
    expect(imported?.keyId).toBe(apiKey.keyId);
  });

  it('accepts an Ed25519 SPKI PEM and nothing else', () => {
    const parse = (keys: unknown) => Policy.shape.auditPublicKeys.safeParse(keys).success;
    expect(parse([apiKey.pem, strangerKey.pem])).toBe(true);
    expect(parse([apiKey.pem.trimEnd()])).toBe(true);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const x25519 = generateKeyPairSync('x25519').publicKey.export({ format: 'pem', type: 'spki' }).toString();
    expect(parse([rsa])).toBe(false);
    expect(parse([x25519])).toBe(false);
    expect(parse([apiKey.pem.replace('PUBLIC KEY', 'PRIVATE KEY')])).toBe(false);
    expect(parse([apiKey.pem, apiKey.pem])).toBe(false);
    expect(parse(['MCowBQYDK2VwAyEA' + 'A'.repeat(43) + '='])).toBe(false);
    // The same key with a spare bit set in its last base64 character: refused, so a key has one spelling.
    const body = /\n(.+)\n/.exec(apiKey.pem)![1]!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const last = body.at(-2)!;
    const bent = body.slice(0, -2) + alphabet[alphabet.indexOf(last) + 1] + '=';
    expect(parse([apiKey.pem.replace(body, bent)])).toBe(false);
  });
});

describe('the console as a witness', () => {
  it('says so and checks nothing when the policy lists no keys', async () => {
    expect(await witness({ keys: [] }).check(trail(apiHolds(2)))).toEqual({ status: 'not_configured' });
    expect(asked).toEqual([]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('verifies the newest checkpoint and remembers it in a 0600 file, written whole', async () => {
    const newest = apiHolds(3);
    const report = await witness().check(trail(newest));
    expect(report).toEqual({
      status: 'ok',
      remembered: { seq: 3, signedAt: newest.checkpoint.signedAt, keyId: apiKey.keyId, verifiedAt: '2026-12-01T10:00:00.000Z' },
    });
    expect(asked).toEqual(['/v1/audit/checkpoints/3']);
    expect(stored().entries).toEqual([{ issuer: 'http://127.0.0.1:9/realms/cims', apiBaseUrl: base, checkpoint: newest, verifiedAt: '2026-12-01T10:00:00.000Z' }]);
    expect(statSync(join(dir, WITNESS_FILE)).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual([WITNESS_FILE]);
  });

  it('moves on to a newer checkpoint, and keeps the date it first verified one it sees again', async () => {
    const w = witness();
    await w.check(trail(apiHolds(2)));
    now += 60_000;
    expect(await w.check(trail(held.get(2)!))).toMatchObject({ status: 'ok', remembered: { seq: 2, verifiedAt: '2026-12-01T10:00:00.000Z' } });
    now += 60_000;
    expect(await w.check(trail(apiHolds(5)))).toMatchObject({ status: 'ok', remembered: { seq: 5, verifiedAt: '2026-12-01T10:02:00.000Z' } });
    expect(stored().entries.map((e) => e.checkpoint.checkpoint.seq)).toEqual([5]);
  });

  it('reports a remembered checkpoint that is gone as damaged, even when the API says ok, and after a restart', async () => {
    await witness().check(trail(apiHolds(4)));
    // Cut back: checkpoints 3 and 4 deleted, the API re-verifies what is left and finds it whole.
    held.delete(4);
    held.delete(3);
    const restarted = witness();
    const report = await restarted.check(trail(held.get(2)!));
    expect(report).toEqual({ status: 'damaged', reason: 'missing', remembered: expect.objectContaining({ seq: 4, verifiedAt: '2026-12-01T10:00:00.000Z' }) });
    expect(asked.at(-1)).toBe('/v1/audit/checkpoints/4');
    // Nothing newer is remembered over it: the damage is reported again next time.
    expect(await restarted.check(trail(held.get(2)!))).toMatchObject({ status: 'damaged', reason: 'missing' });
    expect(stored().entries[0]?.checkpoint.checkpoint.seq).toBe(4);
  });

  it('reports all checkpoints deleted (verify sees none) as damaged', async () => {
    await witness().check(trail(apiHolds(2)));
    held.clear();
    expect(await witness().check(trail(null))).toMatchObject({ status: 'damaged', reason: 'missing', remembered: { seq: 2 } });
  });

  it('reports a remembered checkpoint that was replaced, validly signed, as changed', async () => {
    await witness().check(trail(apiHolds(3)));
    // The API re-sealed a rewritten trail and signed a new #3 over it.
    held.set(3, checkpoint(3, apiKey, { chainHead: createHash('sha256').update('rewritten').digest('hex') }));
    expect(await witness().check(trail(held.get(3)!))).toMatchObject({ status: 'damaged', reason: 'changed', remembered: { seq: 3 } });
  });

  it('reports a trail whose newest checkpoint is older than the remembered one as rolled back', async () => {
    await witness().check(trail(apiHolds(5)));
    // #5 is still served, but verify reports a #4 as the newest (one that even covers as much as #5).
    held.set(4, checkpoint(4, apiKey, { chainSeq: 50, accessCount: 15 }));
    expect(await witness().check(trail(held.get(4)!))).toMatchObject({ status: 'damaged', reason: 'rolled_back', remembered: { seq: 5 } });
  });

  it('reports a newer checkpoint that covers less of the trail than the remembered one as rolled back', async () => {
    await witness().check(trail(apiHolds(5)));
    held.set(6, checkpoint(6, apiKey, { chainSeq: 12 }));
    expect(await witness().check(trail(held.get(6)!))).toMatchObject({ status: 'damaged', reason: 'rolled_back', remembered: { seq: 5 } });
  });

  it('refuses a newest checkpoint signed by a key IT does not trust, and does not remember it', async () => {
    held.set(1, checkpoint(1, strangerKey));
    expect(await witness().check(trail(held.get(1)!))).toEqual({ status: 'untrusted_key', seq: 1, keyId: strangerKey.keyId });
    expect(readdirSync(dir)).toEqual([]);
    // The same checkpoint is fine once IT lists that key.
    expect(await witness({ keys: [apiKey.pem, strangerKey.pem] }).check(trail(held.get(1)!))).toMatchObject({ status: 'ok', remembered: { seq: 1 } });
  });

  it('refuses a newest checkpoint whose signature does not verify', async () => {
    const good = apiHolds(2);
    const sig = Buffer.from(good.signature, 'base64url');
    sig[10] = (sig[10] ?? 0) ^ 1;
    held.set(2, { ...good, signature: sig.toString('base64url') });
    expect(await witness().check(trail(good))).toEqual({ status: 'bad_signature', seq: 2, keyId: apiKey.keyId });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a checkpoint under the number verify named that is not the one verify reported', async () => {
    const reported = apiHolds(2);
    held.set(2, checkpoint(2, apiKey, { signedAt: '2026-12-01T08:00:00.000Z' }));
    expect(await witness().check(trail(reported))).toMatchObject({ status: 'bad_signature', seq: 2 });
  });

  it('does not remember a checkpoint when the API found the trail damaged', async () => {
    expect(await witness().check(trail(apiHolds(2), false))).toEqual({ status: 'ok', remembered: null });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('does not take the file on trust: a remembered checkpoint whose signature fails is ignored', async () => {
    // Someone wrote a "remembered" #9 into the file; its signature is not the API's.
    const forged = checkpoint(9, strangerKey);
    const entry = { issuer: 'http://127.0.0.1:9/realms/cims', apiBaseUrl: base, checkpoint: { ...forged, checkpoint: { ...forged.checkpoint, keyId: apiKey.keyId } }, verifiedAt: '2026-11-01T00:00:00.000Z' };
    writeFileSync(join(dir, WITNESS_FILE), JSON.stringify({ v: 1, entries: [entry] }), { mode: 0o600 });
    expect(await witness().check(trail(apiHolds(2)))).toMatchObject({ status: 'ok', remembered: { seq: 2 } });
    expect(asked).toEqual(['/v1/audit/checkpoints/2']);
    expect(logs.map((l) => l.event)).toContain('audit.witness.remembered.unverifiable');
  });

  it('an unreadable file remembers nothing and is replaced', async () => {
    writeFileSync(join(dir, WITNESS_FILE), '{ not json', { mode: 0o600 });
    expect(await witness().check(trail(apiHolds(1)))).toMatchObject({ status: 'ok', remembered: { seq: 1 } });
    expect(stored().entries).toHaveLength(1);
  });

  it('remembers per issuer and API: another API is witnessed on its own', async () => {
    await witness().check(trail(apiHolds(4)));
    // The same data folder, another API (its checkpoints happen to be served here too).
    const other = witness({ apiBaseUrl: 'http://127.0.0.1:1/other' });
    held.clear();
    const first = apiHolds(1);
    expect(await other.check(trail(first))).toMatchObject({ status: 'ok', remembered: { seq: 1 } });
    expect(stored().entries.map((e) => [e.apiBaseUrl, e.checkpoint.checkpoint.seq])).toEqual([
      [base, 4],
      ['http://127.0.0.1:1/other', 1],
    ]);
    // The first API's memory is intact: its #4 is gone now, and that is reported.
    expect(await witness().check(trail(first))).toMatchObject({ status: 'damaged', reason: 'missing', remembered: { seq: 4 } });
  });

  it('a data folder that cannot be written keeps the earlier memory and says which checkpoint it is', async () => {
    await witness().check(trail(apiHolds(2)));
    const policy = Policy.parse({ issuer: 'http://127.0.0.1:9/realms/cims', clientId: 'c', apiBaseUrl: base, apiAudience: 'a', auditPublicKeys: [apiKey.pem] });
    const api = new ApiClient({ baseUrl: base, fetch: (i, init) => fetch(i, init), tokens: { accessToken: async () => 'token' }, hub: new EventHub(), log, clock });
    const real = fileWitnessStore(dir, log);
    const full = createAuditWitness({
      policy: { ...policy, apiBaseUrl: base },
      store: { read: real.read, write: async () => Promise.reject(Object.assign(new Error('no space'), { code: 'ENOSPC' })) },
      fetchCheckpoint: apiCheckpoints(api),
      clock,
      log,
    });
    expect(await full.check(trail(apiHolds(3)))).toMatchObject({ status: 'ok', remembered: { seq: 2 } });
    expect(logs).toContainEqual({ event: 'audit.witness.write.failed', fields: { error: 'ENOSPC' } });
    expect(stored().entries[0]?.checkpoint.checkpoint.seq).toBe(2);
  });

  it('fails the verification when the API cannot be asked for the remembered checkpoint (no silent ok)', async () => {
    await witness().check(trail(apiHolds(1)));
    const policy = Policy.parse({ issuer: 'http://127.0.0.1:9/realms/cims', clientId: 'c', apiBaseUrl: base, apiAudience: 'a', auditPublicKeys: [apiKey.pem] });
    const down = createAuditWitness({
      policy,
      store: fileWitnessStore(dir, log),
      fetchCheckpoint: async () => {
        throw new Error('unreachable');
      },
      clock,
      log,
    });
    await expect(down.check(trail(held.get(1)!))).rejects.toThrow('unreachable');
  });
});
