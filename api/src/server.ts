// The API process: configuration from the environment, HTTPS when given a
// certificate, and a refusal to serve plain HTTP anywhere but loopback.
// `startApi` is also what the stack orchestrator calls in-process.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { API_AUDIENCE, isLoopbackHost } from './auth';
import { buildApp, type App, type BuildAppOptions } from './app';
import { readPublicKeys, readSigningKey } from './audit/keys';
import { DirectorySink } from './audit/sink';
import { DEFAULT_CHECKPOINT_INTERVAL_MS, type AuditConfig } from './audit/trail';
import { checkDatabaseUrl } from './db/connection';
import { openStore } from './db/pg-store';
import { pgChangeSource, type ChangeSource } from './live/listener';
import type { Store } from './db/store';
import type { LogOptions } from './logging';

export const DEFAULT_API_PORT = 4801;
export const DEFAULT_API_HOST = '127.0.0.1';

export interface StartApiOptions {
  /** The store to serve; closed by `close()` only when `ownsStore` is true. */
  store: Store;
  ownsStore?: boolean;
  /** Signing key, trusted keys, checkpoint sink (see readEnv). */
  audit: AuditConfig;
  issuer: string;
  audience?: string;
  /** See BuildAppOptions; from CIMS_MODEL_RUNNER_CLIENT_ID. */
  modelRunnerClientId?: string;
  /** See BuildAppOptions; from CIMS_PORTAL_CLIENT_ID. */
  portalClientId?: string;
  /** 0 picks a free port. Default 4801. */
  port?: number;
  /** Default 127.0.0.1. Anything but loopback requires `tls`. */
  host?: string;
  tls?: { cert: string | Buffer; key: string | Buffer };
  logger?: false | LogOptions;
  rateLimit?: BuildAppOptions['rateLimit'];
  trustProxy?: BuildAppOptions['trustProxy'];
  /** DPoP (see BuildAppOptions); from CIMS_REQUIRE_DPOP and CIMS_DPOP_NONCE. */
  dpop?: BuildAppOptions['dpop'];
  /** The change stream's one LISTEN connection (closed with the app). */
  changes?: ChangeSource | null;
}

export interface RunningApi {
  /** Base URL, e.g. `http://127.0.0.1:4801` (no trailing slash). */
  url: string;
  app: App;
  close(): Promise<void>;
}

export class InsecureBindError extends Error {
  constructor(host: string) {
    super(
      `Refusing to serve plain HTTP on ${host}: tokens and customer data would cross the network unencrypted. ` +
        'Set TLS_CERT_FILE and TLS_KEY_FILE, or bind to 127.0.0.1.',
    );
    this.name = 'InsecureBindError';
  }
}

export async function startApi(options: StartApiOptions): Promise<RunningApi> {
  const host = options.host ?? DEFAULT_API_HOST;
  if (!options.tls && !isLoopbackHost(host)) throw new InsecureBindError(host);

  const app = await buildApp({
    store: options.store,
    audit: options.audit,
    issuer: options.issuer,
    audience: options.audience ?? API_AUDIENCE,
    ...(options.modelRunnerClientId ? { modelRunnerClientId: options.modelRunnerClientId } : {}),
    ...(options.portalClientId ? { portalClientId: options.portalClientId } : {}),
    logger: options.logger ?? { level: 'info' },
    ...(options.tls ? { https: options.tls } : {}),
    ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
    ...(options.trustProxy !== undefined ? { trustProxy: options.trustProxy } : {}),
    ...(options.dpop ? { dpop: options.dpop } : {}),
    ...(options.changes ? { changes: options.changes } : {}),
  });
  try {
    await app.listen({ port: options.port ?? DEFAULT_API_PORT, host });
  } catch (err) {
    await app.close(); // e.g. the port is taken: release what buildApp opened
    throw err;
  }
  const { port } = app.server.address() as { port: number };
  const scheme = options.tls ? 'https' : 'http';
  const urlHost = host.includes(':') ? `[${host}]` : host;

  let closing: Promise<void> | null = null;
  return {
    url: `${scheme}://${urlHost}:${port}`,
    app,
    close: () =>
      (closing ??= (async () => {
        // Stops accepting, lets in-flight requests finish, then releases the database. A keep-alive
        // connection whose request finishes during the drain is closed as soon as it is idle: left
        // open, it would hold the close for the keep-alive timeout (72 s), past a pod's grace period.
        const sweep = setInterval(() => app.server.closeIdleConnections(), 100);
        try {
          await app.close();
        } finally {
          clearInterval(sweep);
        }
        if (options.ownsStore) await options.store.close();
      })()),
  };
}

export interface ApiEnv {
  issuer: string;
  /** CIMS_MODEL_RUNNER_CLIENT_ID: the client whose tokens may write predictions; unset, none may. */
  modelRunnerClientId: string | undefined;
  /** CIMS_PORTAL_CLIENT_ID: the customer portal's client, the only one whose tokens may carry the customer role; unset, none may. */
  portalClientId: string | undefined;
  /** CIMS_REQUIRE_DPOP=1: people's bearer tokens are refused (IT's requireDpop); CIMS_DPOP_NONCE=1: proofs must carry the API's nonce. */
  /** CIMS_DPOP_NONCE_SECRET_FILE: 32+ bytes every API process shares, so a nonce one gave is good at the others. */
  dpop: { required: boolean; requireNonce: boolean; nonceSecret?: Uint8Array };
  port: number;
  host: string;
  /** The API's connection string (role cims_api); checked by checkDatabaseUrl. */
  databaseUrl: string;
  /** CIMS_DATABASE_POOLER=transaction: DATABASE_URL points at PgBouncer in transaction mode. */
  transactionPooler: boolean;
  /**
   * CIMS_LISTEN_DATABASE_URL, default DATABASE_URL: the change stream's one LISTEN connection per
   * process. It must reach PostgreSQL directly: a pooler in transaction mode cannot hold a LISTEN.
   */
  listenDatabaseUrl: string;
  tls: { cert: Buffer; key: Buffer } | undefined;
  audit: AuditConfig;
}

/**
 * The audit trail's keys and sink: CIMS_AUDIT_SIGNING_KEY (Ed25519 PKCS#8 PEM, mode 0600),
 * CIMS_AUDIT_SINK_DIR (a directory on storage the database's administrators cannot write),
 * optionally CIMS_AUDIT_PUBLIC_KEYS (PEM public keys of earlier signing keys) and
 * CIMS_AUDIT_CHECKPOINT_SECONDS (default 60).
 */
export function readAuditEnv(env: NodeJS.ProcessEnv = process.env): AuditConfig {
  const keyFile = env.CIMS_AUDIT_SIGNING_KEY;
  if (!keyFile) {
    throw new Error(
      'CIMS_AUDIT_SIGNING_KEY is required: the file of the Ed25519 private key (PKCS#8 PEM, mode 0600) that signs audit checkpoints. ' +
        'Generate one with `openssl genpkey -algorithm ed25519 -out audit-signing.pem && chmod 600 audit-signing.pem`; keep it away from the database.',
    );
  }
  const sinkDir = env.CIMS_AUDIT_SINK_DIR;
  if (!sinkDir) {
    throw new Error('CIMS_AUDIT_SINK_DIR is required: the directory where signed checkpoints are also written, on storage the database administrators do not control.');
  }
  const seconds = Number(env.CIMS_AUDIT_CHECKPOINT_SECONDS ?? DEFAULT_CHECKPOINT_INTERVAL_MS / 1000);
  if (!Number.isFinite(seconds) || seconds < 1 || seconds > 86_400) {
    throw new Error(`CIMS_AUDIT_CHECKPOINT_SECONDS is not a number of seconds (1..86400): ${env.CIMS_AUDIT_CHECKPOINT_SECONDS}`);
  }
  return {
    signingKey: readSigningKey(keyFile),
    ...(env.CIMS_AUDIT_PUBLIC_KEYS ? { trustedKeys: readPublicKeys(env.CIMS_AUDIT_PUBLIC_KEYS) } : {}),
    sink: new DirectorySink(sinkDir),
    intervalMs: seconds * 1000,
  };
}

/** Reads and checks the environment; throws with a message a person can act on. */
export function readEnv(env: NodeJS.ProcessEnv = process.env): ApiEnv {
  // No database, no server: an embedded fallback would accept edits and audit events and lose them on restart.
  const databaseUrl = env.DATABASE_URL;
  if (!databaseUrl) {
    throw new Error(
      'DATABASE_URL is required: the PostgreSQL connection string of the API role (cims_api). ' +
        'For a demo database with a provider and demo data, run `npm run stack` instead.',
    );
  }
  checkDatabaseUrl('DATABASE_URL', databaseUrl, env);
  const pooler = env.CIMS_DATABASE_POOLER || 'none';
  if (pooler !== 'none' && pooler !== 'transaction') {
    throw new Error(`CIMS_DATABASE_POOLER is 'transaction' (PgBouncer in transaction mode between the API and PostgreSQL) or unset: ${pooler}`);
  }
  const listenDatabaseUrl = env.CIMS_LISTEN_DATABASE_URL || databaseUrl;
  if (pooler === 'transaction' && !env.CIMS_LISTEN_DATABASE_URL) {
    throw new Error(
      'CIMS_LISTEN_DATABASE_URL is required with CIMS_DATABASE_POOLER=transaction: the change stream LISTENs on a direct connection to PostgreSQL, which a pooler in transaction mode cannot hold.',
    );
  }
  if (listenDatabaseUrl !== databaseUrl) checkDatabaseUrl('CIMS_LISTEN_DATABASE_URL', listenDatabaseUrl, env);
  const issuer = env.ISSUER;
  if (!issuer) throw new Error('ISSUER is required: the OpenID issuer URL whose tokens the API accepts.');
  let issuerUrl: URL;
  try {
    issuerUrl = new URL(issuer);
  } catch {
    throw new Error(`ISSUER is not a URL: ${issuer}`);
  }
  if (issuerUrl.protocol !== 'https:' && !isLoopbackHost(issuerUrl.hostname)) {
    throw new Error('ISSUER must use https (plain http only on loopback).');
  }
  const port = Number(env.CIMS_API_PORT ?? DEFAULT_API_PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`CIMS_API_PORT is not a port: ${env.CIMS_API_PORT}`);
  const certFile = env.TLS_CERT_FILE;
  const keyFile = env.TLS_KEY_FILE;
  if (Boolean(certFile) !== Boolean(keyFile)) throw new Error('Set both TLS_CERT_FILE and TLS_KEY_FILE, or neither.');
  const modelRunnerClientId = env.CIMS_MODEL_RUNNER_CLIENT_ID?.trim() || undefined;
  const portalClientId = env.CIMS_PORTAL_CLIENT_ID?.trim() || undefined;
  if (portalClientId && portalClientId === modelRunnerClientId) {
    throw new Error('CIMS_PORTAL_CLIENT_ID must differ from CIMS_MODEL_RUNNER_CLIENT_ID: a customer is never a service account.');
  }
  const flag = (name: string): boolean => {
    const value = env[name]?.trim() ?? '';
    if (value !== '' && value !== '0' && value !== '1') throw new Error(`${name} must be 1 or 0: ${value}`);
    return value === '1';
  };
  return {
    issuer,
    modelRunnerClientId,
    portalClientId,
    dpop: { required: flag('CIMS_REQUIRE_DPOP'), requireNonce: flag('CIMS_DPOP_NONCE'), ...dpopNonceSecret(env.CIMS_DPOP_NONCE_SECRET_FILE) },
    port,
    host: env.CIMS_API_HOST || DEFAULT_API_HOST,
    databaseUrl,
    transactionPooler: pooler === 'transaction',
    listenDatabaseUrl,
    tls: certFile && keyFile ? { cert: readFileSync(certFile), key: readFileSync(keyFile) } : undefined,
    audit: readAuditEnv(env),
  };
}

async function main(): Promise<void> {
  let env: ApiEnv;
  try {
    env = readEnv();
    if (!env.tls && !isLoopbackHost(env.host)) throw new InsecureBindError(env.host);
  } catch (err) {
    console.error(`cims-api: ${(err as Error).message}`);
    process.exit(2);
  }
  // Background errors are reported through the app's logger once it exists.
  const background = { report: (err: unknown) => console.error(`cims-api: ${(err as Error).message}`) };
  const store = await openStore({
    databaseUrl: env.databaseUrl,
    transactionPooler: env.transactionPooler,
    onBackgroundError: (err) => background.report(err),
  });
  const running = await startApi({
    store,
    ownsStore: true,
    audit: env.audit,
    issuer: env.issuer,
    ...(env.modelRunnerClientId ? { modelRunnerClientId: env.modelRunnerClientId } : {}),
    ...(env.portalClientId ? { portalClientId: env.portalClientId } : {}),
    dpop: env.dpop,
    port: env.port,
    host: env.host,
    tls: env.tls,
    changes: pgChangeSource(env.listenDatabaseUrl),
  });
  background.report = (err) => running.app.log.error({ err }, 'background work failed (audit sealing, retried; or announcing changes)');
  running.app.log.info({ url: running.url, database: store.kind }, 'CIMS API listening');

  const shutdown = (signal: string) => {
    running.app.log.info({ signal }, 'shutting down');
    const timer = setTimeout(() => process.exit(1), 10_000).unref();
    running.close().then(
      () => {
        clearTimeout(timer);
        process.exit(0);
      },
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(`cims-api: failed to start: ${(err as Error).message}`);
    process.exit(1);
  });
}

/** The nonce secret behind a load balancer: from a file (a mounted secret), at least 32 bytes. */
function dpopNonceSecret(file: string | undefined): { nonceSecret?: Uint8Array } {
  if (!file) return {};
  let secret: Buffer;
  try {
    secret = readFileSync(file);
  } catch (err) {
    throw new Error(`CIMS_DPOP_NONCE_SECRET_FILE cannot be read: ${(err as Error).message}`);
  }
  if (secret.length < 32) throw new Error('CIMS_DPOP_NONCE_SECRET_FILE must hold at least 32 bytes (e.g. `openssl rand 32 > dpop-nonce.key`).');
  return { nonceSecret: secret };
}
