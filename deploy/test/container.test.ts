// The API's container image, checked without a container engine: the Containerfile's shape (stages,
// no shell in the final one, a non-root user, HEALTHCHECK through node), its production dependency
// set (exactly api/package.json's, nothing of the dev tools or the demo stack), and the server,
// migrator, key copier and health check started from exactly the files the final stage copies,
// against a real PostgreSQL over TLS.
import { execFileSync, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_URL, onServer, urlFor } from '../../testing/db';
import { REPO_DIR } from '../container/build-api';
import { execForm, layOutImage, parseContainerfile, startServer, type Image } from './image';

const apiPackage = JSON.parse(readFileSync(join(REPO_DIR, 'api', 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
const rootPackage = JSON.parse(readFileSync(join(REPO_DIR, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const devstackPackage = JSON.parse(readFileSync(join(REPO_DIR, 'devstack', 'package.json'), 'utf8')) as {
  name: string;
  dependencies?: Record<string, string>;
};

describe('deploy/container/Containerfile', () => {
  const { stages } = parseContainerfile();
  const final = stages.at(-1)!;
  const ops = (op: string) => final.instructions.filter((i) => i.op === op);

  it('builds in stages and runs on a base with node only (distroless): no RUN, so no shell is needed', () => {
    expect(stages.map((s) => s.name)).toEqual(['build', 'deps', null]);
    expect(final.from).toMatch(/^gcr\.io\/distroless\/nodejs24-debian12:nonroot$/);
    expect(ops('RUN')).toEqual([]);
    // Every COPY of the final stage comes from an earlier stage, never the build context.
    expect(ops('COPY').every((c) => c.args.startsWith('--from='))).toBe(true);
  });

  it('runs as a non-root user, in exec form, with a HEALTHCHECK on /healthz through node', () => {
    const user = ops('USER').at(-1)!.args;
    expect(user).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    const health = ops('HEALTHCHECK').at(-1)!.args;
    expect(execForm(health)).toEqual(['/nodejs/bin/node', '/app/healthcheck.js']);
    expect(readFileSync(join(REPO_DIR, 'deploy', 'container', 'healthcheck.ts'), 'utf8')).toContain("path: '/healthz'");
    expect(execForm(ops('CMD').at(-1)!.args)).toEqual(['src/server.js']);
  });

  it('installs production dependencies only in the deps stage', () => {
    const deps = stages.find((s) => s.name === 'deps')!;
    const run = deps.instructions.filter((i) => i.op === 'RUN').map((i) => i.args);
    expect(run).toHaveLength(1);
    expect(run[0]).toMatch(/^npm ci --omit=dev --ignore-scripts\b/);
  });
});

describe('the image built from it', () => {
  let image: Image;
  let work: string;
  let dbName: string;
  let certFile: string;
  let keyFile: string;

  beforeAll(async () => {
    image = await layOutImage();
    work = mkdtempSync(join(tmpdir(), 'cims-image-run-'));
    // A throwaway certificate for 127.0.0.1 (the image serves HTTPS, as in the cluster).
    certFile = join(work, 'tls.crt');
    keyFile = join(work, 'tls.key');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile,
    ], { stdio: 'ignore' });
    chmodSync(keyFile, 0o600);
    dbName = `cims_image_${process.pid}_${Date.now().toString(36)}`;
    await onServer(`CREATE DATABASE ${dbName}`);
  }, 240_000);
  afterAll(async () => {
    image?.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
    if (dbName) await onServer(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  });

  it("declares exactly the API's dependencies and imports nothing else", () => {
    const pkg = JSON.parse(readFileSync(join(image.appDir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(pkg.dependencies).toEqual(apiPackage.dependencies);
    expect(image.imports.every((p) => p in apiPackage.dependencies)).toBe(true);
    expect(image.imports).toEqual(expect.arrayContaining(['fastify', 'pg', 'zod', 'jose']));
  });

  it('holds no dev tool, no desktop package and nothing of the demo stack', () => {
    const installed = new Set(
      readdirSync(join(image.appDir, 'node_modules')).filter((n) => !n.startsWith('.')).flatMap((n) =>
        n.startsWith('@') ? readdirSync(join(image.appDir, 'node_modules', n)).map((m) => `${n}/${m}`) : [n],
      ),
    );
    for (const name of Object.keys(apiPackage.dependencies)) expect(installed, name).toContain(name);
    // Whatever the API's own dependency tree needs may share a name with a root package (yaml, for
    // @fastify/swagger); every other package of the desktop app, the dev tools and the demo stack stays out.
    const lock = JSON.parse(readFileSync(join(image.appDir, 'package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
    const needed = (name: string) => `node_modules/${name}` in lock.packages;
    const forbidden = [
      ...Object.keys(rootPackage.devDependencies),
      ...Object.keys(rootPackage.dependencies),
      ...Object.keys(devstackPackage.dependencies ?? {}),
      devstackPackage.name,
      '@cims/api',
    ].filter((name) => !needed(name));
    expect(forbidden).toEqual(expect.arrayContaining(['tsx', 'vitest', 'typescript', 'esbuild', 'electron', 'react', 'keytar', 'oidc-provider', '@electric-sql/pglite', devstackPackage.name]));
    expect(forbidden.filter((name) => installed.has(name))).toEqual([]);
    expect([...installed].filter((name) => !needed(name))).toEqual([]);
    // Our own code is bundled: no TypeScript source and no tests are copied.
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.name === 'node_modules' ? [] : e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)],
      );
    const ours = files(image.appDir).map((f) => f.slice(image.appDir.length + 1));
    expect(ours.filter((f) => /\.ts$|\.test\./.test(f))).toEqual([]);
    expect(ours).toEqual(expect.arrayContaining(['src/server.js', 'src/db/migrate-cli.js', 'healthcheck.js', 'copy-secret.js', 'package.json']));
  });

  it('migrates a database, installs the signing key as the init container does, serves /healthz and /readyz over TLS, and passes its HEALTHCHECK', async () => {
    const adminUrl = urlFor(ADMIN_URL, dbName);
    const migrate = spawnSync(process.execPath, ['src/db/migrate-cli.js'], {
      cwd: image.appDir,
      env: { ...image.env, DATABASE_URL: adminUrl },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(migrate.stderr).toBe('');
    expect(migrate.stdout).toMatch(/migrations applied: 001_roles_schemas/);
    expect(migrate.status).toBe(0);

    // The secret volume: group-readable, as Kubernetes mounts it with fsGroup; the copy is 0600.
    const secretDir = join(work, 'audit-secret');
    const keyDir = join(work, 'audit');
    mkdirSync(secretDir);
    mkdirSync(keyDir);
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileSync(join(secretDir, 'audit-signing.pem'), privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o440 });
    const copy = spawnSync(process.execPath, ['copy-secret.js', join(secretDir, 'audit-signing.pem'), join(keyDir, 'audit-signing.pem')], {
      cwd: image.appDir,
      encoding: 'utf8',
    });
    expect(copy.status, copy.stderr).toBe(0);
    expect(statSync(join(keyDir, 'audit-signing.pem')).mode & 0o777).toBe(0o600);

    const sinkDir = join(work, 'checkpoints');
    mkdirSync(sinkDir);
    const server = await startServer(image, {
      DATABASE_URL: urlFor(ADMIN_URL, dbName, 'cims_api'),
      ISSUER: 'https://login.example.com/realms/cims',
      TLS_CERT_FILE: certFile,
      TLS_KEY_FILE: keyFile,
      CIMS_AUDIT_SIGNING_KEY: join(keyDir, 'audit-signing.pem'),
      CIMS_AUDIT_SINK_DIR: sinkDir,
    });
    const env = server.env;
    try {
      const ca = readFileSync(certFile);
      expect(await get(server.port, '/healthz', ca)).toEqual({ status: 200, body: { status: 'ok' } });
      expect(await get(server.port, '/readyz', ca)).toEqual({ status: 200, body: { status: 'ok' } });
      const health = spawnSync(process.execPath, [join(image.appDir, 'healthcheck.js')], {
        cwd: image.appDir,
        env: { ...image.env, ...env },
        encoding: 'utf8',
      });
      expect(health.status, health.stderr).toBe(0);
    } finally {
      server.process.kill('SIGTERM');
      const [code] = await server.exited;
      expect(code, server.output()).toBe(0);
    }
    // With the server gone, the HEALTHCHECK fails.
    const down = spawnSync(process.execPath, [join(image.appDir, 'healthcheck.js')], { cwd: image.appDir, env: { ...image.env, ...env }, encoding: 'utf8' });
    expect(down.status).toBe(1);
    expect(existsSync(join(image.appDir, 'node_modules', 'tsx'))).toBe(false);
  }, 180_000);
});

function get(port: number, path: string, ca: Buffer): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, ca, timeout: 10_000 }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown }));
    });
    req.on('error', reject);
    req.end();
  });
}
