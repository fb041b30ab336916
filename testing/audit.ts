// Throwaway audit signing keys for tests and benchmarks: a fresh Ed25519 key
// pair per call, written (mode 0600) into a temporary folder with the public key
// and an empty checkpoint sink directory. Nothing is reused between runs.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { generateSigningKey, publicKeyPem, writeSigningKey } from '../api/src/audit/keys';
import { DirectorySink } from '../api/src/audit/sink';
import type { AuditConfig } from '../api/src/audit/trail';

export interface TestAudit {
  /** Ready for buildApp / startApi. */
  config: AuditConfig;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The private key's file (CIMS_AUDIT_SIGNING_KEY), its public key's (CIMS_AUDIT_PUBLIC_KEYS), the sink (CIMS_AUDIT_SINK_DIR). */
  keyFile: string;
  publicKeyFile: string;
  sinkDir: string;
  sink: DirectorySink;
  /** The variables the server entry reads. */
  env: Record<string, string>;
  /** Removes the folder. */
  cleanup(): void;
}

export function createTestAudit(opts: { intervalMs?: number } = {}): TestAudit {
  const dir = mkdtempSync(join(tmpdir(), 'cims-audit-'));
  const { privateKey, publicKey } = generateSigningKey();
  const keyFile = join(dir, 'audit-signing.pem');
  const publicKeyFile = join(dir, 'audit-public.pem');
  const sinkDir = join(dir, 'checkpoints');
  writeSigningKey(keyFile, privateKey);
  writeFileSync(publicKeyFile, publicKeyPem(publicKey));
  const sink = new DirectorySink(sinkDir);
  return {
    config: { signingKey: privateKey, sink, intervalMs: opts.intervalMs ?? 60_000 },
    privateKey,
    publicKey,
    keyFile,
    publicKeyFile,
    sinkDir,
    sink,
    env: { CIMS_AUDIT_SIGNING_KEY: keyFile, CIMS_AUDIT_SINK_DIR: sinkDir },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
