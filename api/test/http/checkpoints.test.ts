// Checkpoints over HTTP: a signed checkpoint as stored, which a console checks
// with WebCrypto alone; a lock held on the sealing key by anyone does not make
// the audit endpoints wait; and the server entry refuses to start without a key.
import { spawnSync } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignedCheckpoint, checkpointSignedBytes } from '../../../shared/audit';
import { AuditVerifyResult } from '../../../shared/api';
import { seedCustomer } from '../../../testing/db';
import { startHarness, type Harness } from './harness';

const ORG = 'ORG-000861';
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await seedCustomer(h.db.admin, { orgId: ORG, ownerSub: 'alice' });
});
afterAll(() => h?.close());

async function edit(userCount: number): Promise<void> {
  const read = await h.call('owner', 'GET', `/v1/customers/${ORG}`);
  const res = await h.call('owner', 'PATCH', `/v1/customers/${ORG}`, {
    headers: { 'if-match': String(read.headers.etag) },
    body: { changes: { userCount }, reason: 'Seats changed' },
  });
  expect(res.statusCode).toBe(200);
}

describe('GET /v1/audit/checkpoints/:seq', () => {
  it('returns the signed checkpoint as stored, which verifies with WebCrypto Ed25519 and equals the sink copy', async () => {
    await edit(11);
    const verified = AuditVerifyResult.parse((await h.call('lead', 'GET', '/v1/audit/verify')).json());
    expect(verified).toMatchObject({ ok: true, checkpoint: { seq: 1 } });

    const res = await h.call('lead', 'GET', '/v1/audit/checkpoints/1');
    expect(res.statusCode).toBe(200);
    const signed = SignedCheckpoint.parse(res.json());
    expect(signed.checkpoint).toMatchObject({ seq: 1, chainSeq: verified.checked, keyId: verified.checkpoint?.keyId });
    expect(await h.audit.sink.get(1)).toEqual(signed);

    // What a console does with the public key from its policy: no node:crypto key objects.
    const raw = Buffer.from(h.audit.publicKey.export({ format: 'jwk' }).x!, 'base64url');
    const key = await webcrypto.subtle.importKey('raw', raw, { name: 'Ed25519' }, false, ['verify']);
    const sig = Buffer.from(signed.signature, 'base64url');
    expect(await webcrypto.subtle.verify('Ed25519', key, sig, checkpointSignedBytes(signed.checkpoint))).toBe(true);
    const altered = { ...signed.checkpoint, chainSeq: signed.checkpoint.chainSeq + 1 };
    expect(await webcrypto.subtle.verify('Ed25519', key, sig, checkpointSignedBytes(altered))).toBe(false);
  });

  it('answers 404 for a checkpoint that does not exist, 400 for a seq that is not one', async () => {
    expect((await h.call('lead', 'GET', '/v1/audit/checkpoints/999999')).statusCode).toBe(404);
    expect((await h.call('lead', 'GET', '/v1/audit/checkpoints/0')).statusCode).toBe(400);
    expect((await h.call('lead', 'GET', '/v1/audit/checkpoints/x')).statusCode).toBe(400);
  });
});

describe('a lock held on the sealing key by another session', () => {
  it('makes no audit endpoint wait: the round is skipped and verify says what is not sealed yet', { timeout: 30_000 }, async () => {
    const holder = new pg.Client({ connectionString: h.db.adminUrl });
    await holder.connect();
    try {
      await holder.query("SELECT pg_advisory_lock(hashtext('cims.audit.seal'))");
      await edit(12);
      const within = <T>(p: Promise<T>, what: string): Promise<T> =>
        Promise.race([p, new Promise<T>((_r, reject) => setTimeout(() => reject(new Error(`${what} waited on the sealing lock`)), 5_000))]);
      const verify = await within(h.call('lead', 'GET', '/v1/audit/verify'), 'verify');
      expect(verify.json()).toMatchObject({ ok: true, unsealed: 1 });
      expect((await within(h.call('lead', 'GET', '/v1/audit/events'), 'the audit review')).statusCode).toBe(200);
      expect((await within(h.call('owner', 'GET', `/v1/customers/${ORG}/audit`), 'the record history')).statusCode).toBe(200);
      // A checkpoint round, too, skips instead of waiting.
      expect(await within(h.app.auditTrail.checkpointNow(), 'a checkpoint')).toMatchObject({ status: 'busy' });
    } finally {
      await holder.end(); // releases the lock
    }
    expect((await h.call('lead', 'GET', '/v1/audit/verify')).json()).toMatchObject({ ok: true, unsealed: 0, checkpoint: { seq: 2 } });
  });
});

describe('node api/src/server.ts', () => {
  const entry = join(import.meta.dirname, '..', '..', 'src', 'server.ts');
  const run = (env: Record<string, string>) =>
    spawnSync(process.execPath, ['--import', 'tsx', entry], {
      env: { ...process.env, DATABASE_URL: 'postgres://cims_api@127.0.0.1:1/unreached', ISSUER: 'https://idp.example.com', CIMS_API_PORT: '0', ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });

  it('exits with code 2 without CIMS_AUDIT_SIGNING_KEY, and with a key file others may read', () => {
    const without = run({ CIMS_AUDIT_SIGNING_KEY: '', CIMS_AUDIT_SINK_DIR: h.audit.sinkDir });
    expect(without.status).toBe(2);
    expect(without.stderr).toMatch(/CIMS_AUDIT_SIGNING_KEY is required/);
    chmodSync(h.audit.keyFile, 0o640);
    try {
      const open = run(h.audit.env);
      expect(open.status).toBe(2);
      expect(open.stderr).toMatch(/mode 0640.*chmod 600/);
      expect(open.stdout).not.toMatch(/listening/i);
    } finally {
      chmodSync(h.audit.keyFile, 0o600);
    }
  });
});
