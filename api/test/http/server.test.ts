// The server entry: HTTPS when given a certificate, a refusal to serve plain
// HTTP beyond loopback, environment checks, and a real listening socket.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InsecureBindError, readEnv, startApi } from '../../src/server';
import { createTestAudit } from '../../../testing/audit';
import { createTestDatabase, type TestDatabase } from '../../../testing/db';
import { startTestIssuer, type TestIssuer } from '../../../testing/issuer';

let db: TestDatabase;
let issuer: TestIssuer;
let certDir: string;
const audit = createTestAudit();

beforeAll(async () => {
  [db, issuer] = await Promise.all([createTestDatabase(), startTestIssuer()]);
  certDir = mkdtempSync(join(tmpdir(), 'cims-api-tls-'));
  // A throwaway self-signed certificate for 127.0.0.1 (OpenSSL is part of the base system here).
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
    '-keyout', join(certDir, 'key.pem'), '-out', join(certDir, 'cert.pem'),
  ], { stdio: 'ignore' });
  chmodSync(join(certDir, 'key.pem'), 0o600);
});
afterAll(async () => {
  rmSync(certDir, { recursive: true, force: true });
  audit.cleanup();
  await Promise.all([db?.drop(), issuer?.close()]);
});

describe('startApi', () => {
  it.each(['0.0.0.0', '::', '192.168.1.10'])('refuses plain HTTP on %s', async (host) => {
    await expect(startApi({ store: db.store, audit: audit.config, issuer: issuer.url, host, port: 0, logger: false })).rejects.toBeInstanceOf(
      InsecureBindError,
    );
  });

  it('serves plain HTTP on loopback, verifying tokens over a real socket, and closes', async () => {
    const api = await startApi({ store: db.store, audit: audit.config, issuer: issuer.url, port: 0, logger: false });
    expect(api.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const token = await issuer.sign({ sub: 'alice', name: 'Alice Adams', roles: ['crm'] });
    const me = await fetch(`${api.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(await me.json()).toEqual({ sub: 'alice', name: 'Alice Adams', roles: ['crm'] });
    await api.close();
    await expect(fetch(`${api.url}/healthz`)).rejects.toThrow();
    // The store was not the API's to close: it still answers.
    await expect(db.store.ping()).resolves.toBeUndefined();
  });

  it('fails to start on a port that is taken, without leaving anything open', async () => {
    const first = await startApi({ store: db.store, audit: audit.config, issuer: issuer.url, port: 0, logger: false });
    try {
      const port = Number(new URL(first.url).port);
      await expect(startApi({ store: db.store, audit: audit.config, issuer: issuer.url, port, logger: false })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await first.close();
    }
  });

  it('serves HTTPS with the given certificate, on any address', async () => {
    const cert = readFileSync(join(certDir, 'cert.pem'));
    const key = readFileSync(join(certDir, 'key.pem'));
    const api = await startApi({ store: db.store, audit: audit.config, issuer: issuer.url, host: '127.0.0.1', port: 0, tls: { cert, key }, logger: false });
    try {
      expect(api.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const body = await new Promise<string>((resolve, reject) => {
        request(`${api.url}/healthz`, { ca: cert }, (res) => {
          let data = '';
          res.on('data', (c: Buffer) => (data += c.toString()));
          res.on('end', () => resolve(data));
        })
          .on('error', reject)
          .end();
      });
      expect(JSON.parse(body)).toEqual({ status: 'ok' });
    } finally {
      await api.close();
    }
  });
});

describe('readEnv', () => {
  // Another host: only with TLS and the server's certificate verified (api/test/db/tls.test.ts).
  const db = { DATABASE_URL: 'postgres://cims_api@db.example.com/cims?sslmode=verify-full' };
  const base = { ...db, ISSUER: 'https://idp.example.com/realms/cims', ...audit.env };

  it('applies the defaults', () => {
    expect(readEnv(base)).toMatchObject({ issuer: base.ISSUER, port: 4801, host: '127.0.0.1', databaseUrl: db.DATABASE_URL, tls: undefined });
    expect(readEnv(base).audit).toMatchObject({ intervalMs: 60_000, sink: { dir: audit.sinkDir } });
  });

  it.each([
    [{ ISSUER: base.ISSUER }, /DATABASE_URL is required.*npm run stack/],
    [{ ...base, DATABASE_URL: '' }, /DATABASE_URL is required/],
    [db, /ISSUER is required/],
    [{ ...db, ISSUER: 'not a url' }, /not a URL/],
    [{ ...db, ISSUER: 'http://idp.example.com' }, /must use https/],
    [{ ...base, CIMS_API_PORT: '70000' }, /not a port/],
    [{ ...base, TLS_CERT_FILE: '/tmp/cert.pem' }, /both TLS_CERT_FILE and TLS_KEY_FILE/],
    [{ ...base, CIMS_AUDIT_SIGNING_KEY: '' }, /CIMS_AUDIT_SIGNING_KEY is required/],
    [{ ...base, CIMS_AUDIT_SINK_DIR: '' }, /CIMS_AUDIT_SINK_DIR is required/],
    [{ ...base, CIMS_AUDIT_SIGNING_KEY: audit.publicKeyFile }, /mode 0644; the audit signing key must be readable by its owner only/],
    [{ ...base, CIMS_AUDIT_SIGNING_KEY: '/nonexistent/audit.pem' }, /CIMS_AUDIT_SIGNING_KEY: cannot read/],
    [{ ...base, CIMS_AUDIT_CHECKPOINT_SECONDS: '0' }, /CIMS_AUDIT_CHECKPOINT_SECONDS/],
  ])('refuses %j', (env, message) => {
    expect(() => readEnv(env)).toThrow(message);
  });

  it('reads the DPoP settings: off by default, 1 or 0 only, a shared nonce secret of 32 bytes or more', () => {
    expect(readEnv(base).dpop).toEqual({ required: false, requireNonce: false });
    expect(readEnv({ ...base, CIMS_REQUIRE_DPOP: '1', CIMS_DPOP_NONCE: '1' }).dpop).toEqual({ required: true, requireNonce: true });
    expect(() => readEnv({ ...base, CIMS_REQUIRE_DPOP: 'yes' })).toThrow(/CIMS_REQUIRE_DPOP must be 1 or 0/);
    const secretFile = join(certDir, 'dpop-nonce.key');
    writeFileSync(secretFile, Buffer.alloc(16, 7), { mode: 0o600 });
    expect(() => readEnv({ ...base, CIMS_DPOP_NONCE_SECRET_FILE: secretFile })).toThrow(/at least 32 bytes/);
    writeFileSync(secretFile, Buffer.alloc(32, 7), { mode: 0o600 });
    expect(readEnv({ ...base, CIMS_DPOP_NONCE_SECRET_FILE: secretFile }).dpop.nonceSecret).toEqual(Buffer.alloc(32, 7));
  });

  it('refuses a signing key file that holds no Ed25519 private key, and reads older public keys', () => {
    const notKey = join(certDir, 'not-a-key.pem');
    writeFileSync(notKey, 'nothing here', { mode: 0o600 });
    expect(() => readEnv({ ...base, CIMS_AUDIT_SIGNING_KEY: notKey })).toThrow(/not a PKCS#8 PEM private key/);
    // An EC key is a private key, but not an audit key.
    expect(() => readEnv({ ...base, CIMS_AUDIT_SIGNING_KEY: join(certDir, 'key.pem') })).toThrow(/Ed25519/);
    const env = readEnv({ ...base, CIMS_AUDIT_PUBLIC_KEYS: audit.publicKeyFile });
    expect(env.audit.trustedKeys?.map((k) => k.keyId)).toHaveLength(1);
  });

  it('reads the certificate files', () => {
    const env = readEnv({ ...base, TLS_CERT_FILE: join(certDir, 'cert.pem'), TLS_KEY_FILE: join(certDir, 'key.pem') });
    expect(env.tls?.cert.toString()).toContain('BEGIN CERTIFICATE');
  });
});

describe('the server process', () => {
  const server = fileURLToPath(new URL('../../src/server.ts', import.meta.url));

  it('serves the database in DATABASE_URL and shuts down cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', server], {
      env: { ...process.env, ...audit.env, ISSUER: issuer.url, DATABASE_URL: db.apiUrl, CIMS_API_PORT: '0', CIMS_API_HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)"[^\n]*CIMS API listening/.exec(out);
          if (m?.[1]) resolve(m[1]);
        });
        child.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
      });
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('exits non-zero with a clear message when asked for plain HTTP on a public address', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', server], {
      // A database is named (never reached): the bind check must refuse first.
      env: { ...process.env, ...audit.env, DATABASE_URL: 'postgres://cims_api@127.0.0.1:1/unreached', ISSUER: issuer.url, CIMS_API_HOST: '0.0.0.0', CIMS_API_PORT: '0', TLS_CERT_FILE: '', TLS_KEY_FILE: '' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('Refusing to serve plain HTTP on 0.0.0.0');
  });
});
