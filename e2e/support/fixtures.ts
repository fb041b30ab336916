// The end-to-end harness; one fixture chooses how the console runs, the specs
// do not change:
// - where an Electron binary exists, the real app through Playwright's Electron
//   support (launchElectronApp);
// - otherwise (as on these machines, where none can be obtained) the console as
//   it would run inside the app, minus Electron itself: the built renderer in
//   Debian's Chromium, served with the app's own CSP, and the real
//   electron/core running in this test process, exposed to the page exactly
//   where the preload puts it (`window.cims`, same allow-lists, sender check).
// Everything behind it is real: `npm run stack` (OpenID provider, API) on a
// fresh PostgreSQL database, and gnome-keyring's Secret Service for the keychain.
//
// Stand-ins at the OS edge only: the "system browser" is a second Chromium
// context where the test signs in on the provider's page, and the save dialog
// answers with a path in the test's folder.
import { createPublicKey } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { _electron, test as base, expect, type Browser, type BrowserContext, type Page, type TestInfo } from '@playwright/test';
import keytar from 'keytar';
import pg from 'pg';
import { Policy } from '../../shared/config';
import type { SessionStatus } from '../../shared/ipc';
import { createHandlers } from '../../electron/core/handlers';
import { createRotatingLog } from '../../electron/core/log';
import { keytarSecretStore } from '../../electron/core/secret-store';
import { CONTENT_SECURITY_POLICY } from '../../electron/shell/security';
import { exposeCoreToPage } from '../../testing/page-bridge';
import { startRelay, type Relay } from './proxy';
import { serveRenderer } from './renderer-server';
import { signInOnPage } from '../../testing/sign-in';
import { startStack, type RunningStack, type StackInfo } from '../../testing/stack';

// As testing/db.ts: TLS with the server's certificate checked against the CA scripts/setup-system.sh makes.
export const ADMIN_URL =
  process.env.TEST_DATABASE_ADMIN_URL ??
  `postgres://postgres@127.0.0.1:5432/postgres?sslmode=verify-full&sslrootcert=${encodeURIComponent(process.env.PGSSLROOTCERT ?? '/etc/ssl/cims-pg-test/ca.crt')}`;
export const ARTIFACTS = join(import.meta.dirname, '..', 'artifacts');
export const REPO_ROOT = join(import.meta.dirname, '..', '..');

/** The Electron binary to drive, when one exists: ELECTRON_PATH, or the one the electron package installed. */
function findElectron(): string | null {
  if (process.env.ELECTRON_PATH) return process.env.ELECTRON_PATH;
  const pathFile = join(REPO_ROOT, 'node_modules', 'electron', 'path.txt');
  if (!existsSync(pathFile)) return null;
  const binary = join(REPO_ROOT, 'node_modules', 'electron', 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(binary) ? binary : null;
}
const ELECTRON_PATH = findElectron();
export const MODE = ELECTRON_PATH
  ? `the packaged-style app in Electron (${ELECTRON_PATH}), unfused development build`
  : 'built renderer in Chromium with the real core bridged in (no Electron binary on this machine)';
export const APP_VERSION = (JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;

export type Account = StackInfo['demoAccounts'][number];

export interface Stack {
  info: StackInfo;
  /** The API as the console reaches it: through a relay the test can take down. */
  relay: Relay;
  /** A superuser connection to the stack's database, for checks and tampering only. */
  db: pg.Client;
  /** The public half of the API's audit signing key (SPKI PEM), for the consoles' policy. */
  auditPublicKey: string;
  account(username: string): Account;
}

export interface ConsoleOptions {
  /** Keychain service name: two consoles with the same one share a stored session, like a restart. */
  keychainService?: string;
  inactivityTimeoutMinutes?: number;
  /** The policy's tokenBinding; default dpop (the policy's own default). */
  tokenBinding?: 'dpop' | 'rotation';
}

export interface ConsoleApp {
  page: Page;
  keychainService: string;
  /** The console's user data folder (where it remembers the audit checkpoints it verified). */
  userDataDir: string;
  /** Clicks "Sign in", signs in on the provider's own page in the system browser, waits for the console. */
  signIn(account: Account): Promise<void>;
  waitForStatus(status: SessionStatus): Promise<void>;
  /** Saves a screenshot to e2e/artifacts/screens and attaches it to the report. */
  screenshot(name: string): Promise<void>;
  close(): Promise<void>;
}

interface Fixtures {
  openConsole: (options?: ConsoleOptions) => Promise<ConsoleApp>;
}
interface WorkerFixtures {
  stack: Stack;
  rendererUrl: string;
}

let consoleCount = 0;

export const test = base.extend<Fixtures, WorkerFixtures>({
  stack: [
    // eslint-disable-next-line no-empty-pattern -- Playwright fixtures take their dependencies as the first argument
    async ({}, use) => {
      const dbName = `cims_e2e_${process.pid}_${Date.now()}`;
      const admin = new pg.Client({ connectionString: ADMIN_URL });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(dbName)}`);
      const dbUrl = new URL(ADMIN_URL);
      dbUrl.pathname = `/${dbName}`;
      let running: RunningStack | null = null;
      let relay: Relay | null = null;
      const db = new pg.Client({ connectionString: dbUrl.toString() });
      try {
        // CIMS_E2E_CUSTOMERS: a bigger demo for the console report (e2e/perf), usage for the first 300 only.
        const customers = process.env.CIMS_E2E_CUSTOMERS ?? '300';
        running = await startStack(['--customers', customers, '--usage-customers', '300'], {
          DATABASE_URL: dbUrl.toString(),
          CIMS_IDP_PORT: '0',
          CIMS_API_PORT: '0',
        });
        relay = await startRelay(running.info.api);
        await db.connect();
        const info = running.info;
        // As IT gets it from the API's operators: derived from the signing key file on the API host
        // (the demo stack keeps it in its data folder). The console never takes a key from the API.
        const auditPublicKey = createPublicKey(readFileSync(join(info.dataDir, 'audit-signing.pem'), 'utf8')).export({ format: 'pem', type: 'spki' }).toString();
        await use({
          info,
          relay,
          db,
          auditPublicKey,
          account: (username) => {
            const found = info.demoAccounts.find((a) => a.username === username);
            if (!found) throw new Error(`no demo account ${username}`);
            return found;
          },
        });
      } finally {
        await db.end().catch(() => undefined);
        await relay?.close();
        await running?.stop();
        await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(dbName)} WITH (FORCE)`).catch(() => undefined);
        await admin.end();
      }
    },
    { scope: 'worker', timeout: 240_000 },
  ],

  rendererUrl: [
    // eslint-disable-next-line no-empty-pattern -- see above
    async ({}, use) => {
      const server = await serveRenderer(CONTENT_SECURITY_POLICY);
      await use(server.url);
      await server.close();
    },
    { scope: 'worker' },
  ],

  openConsole: async ({ browser, stack, rendererUrl }, use, testInfo) => {
    testInfo.annotations.push({ type: 'mode', description: MODE });
    const opened: ConsoleApp[] = [];
    await use(async (options = {}) => {
      const app = await openConsole(browser, stack, rendererUrl, testInfo, options);
      opened.push(app);
      return app;
    });
    for (const app of opened) await app.close();
  },
});

async function openConsole(
  browser: Browser,
  stack: Stack,
  rendererUrl: string,
  testInfo: TestInfo,
  options: ConsoleOptions,
): Promise<ConsoleApp> {
  const keychainService = options.keychainService ?? `CIMS Console e2e ${process.pid} ${++consoleCount}`;
  const workDir = mkdtempSync(join(tmpdir(), 'cims-e2e-console-'));
  const launched = ELECTRON_PATH
    ? await launchElectronApp(ELECTRON_PATH, stack, keychainService, workDir, options)
    : await launchInChromium(browser, stack, rendererUrl, keychainService, workDir, options);
  const { page, openedUrls } = launched;

  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  // The shipped CSP must not block anything the console needs.
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content.Security.Policy/i.test(m.text())) pageErrors.push(m.text());
  });

  // The system browser: its own context, like a separate application.
  let systemBrowser: BrowserContext | null = null;
  let handled = 0;

  const waitForStatus = async (status: SessionStatus) => {
    await expect
      .poll(
        () =>
          page.evaluate(async () => {
            const s = await (window as unknown as { cims: import('../../shared/ipc').CimsBridge }).cims.invoke('session:get', {});
            return s.ok ? s.data.status : s.error.code;
          }),
        { timeout: 30_000 },
      )
      .toBe(status);
  };

  return {
    page,
    keychainService,
    userDataDir: join(workDir, 'profile'),
    waitForStatus,
    async signIn(account) {
      await page.getByRole('button', { name: /sign in|unlock/i }).first().click();
      let url: string | undefined;
      await expect.poll(async () => (url = (await openedUrls())[handled]), { timeout: 15_000 }).toBeTruthy();
      handled++;
      systemBrowser ??= await browser.newContext();
      const tab = await systemBrowser.newPage();
      await signInOnPage(tab, url!, account);
      await expect(tab.locator('body')).toContainText(/signed in/i, { timeout: 15_000 });
      await waitForStatus('signedIn');
      await tab.close();
    },
    async screenshot(name) {
      const dir = join(ARTIFACTS, 'screens');
      mkdirSync(dir, { recursive: true });
      const path = join(dir, `${name}.png`);
      await page.screenshot({ path });
      await testInfo.attach(name, { path, contentType: 'image/png' });
    },
    async close() {
      await launched.close();
      await systemBrowser?.close();
      // Leave no test secret behind in the keychain (a stored session is only kept when a spec reuses the service).
      if (!options.keychainService) {
        for (const c of await keytar.findCredentials(keychainService).catch(() => [])) {
          await keytar.deletePassword(keychainService, c.account);
        }
      }
      expect(pageErrors, 'the console threw in the page').toEqual([]);
    },
  };
}

interface Launched {
  page: Page;
  /** Every URL the console asked the OS to open in the system browser, in order. */
  openedUrls(): Promise<string[]>;
  close(): Promise<void>;
}

/** The built renderer in Chromium with the real core in this process, bridged in where the preload would be. */
async function launchInChromium(
  browser: Browser,
  stack: Stack,
  rendererUrl: string,
  keychainService: string,
  workDir: string,
  options: ConsoleOptions,
): Promise<Launched> {
  const policy = Policy.parse({
    issuer: stack.info.issuer,
    clientId: stack.info.clientId,
    apiBaseUrl: stack.relay.url,
    apiAudience: stack.info.audience,
    scope: stack.info.scope,
    ...(options.inactivityTimeoutMinutes ? { inactivityTimeoutMinutes: options.inactivityTimeoutMinutes } : {}),
    ...(options.tokenBinding ? { tokenBinding: options.tokenBinding } : {}),
    auditPublicKeys: [stack.auditPublicKey],
  });
  const opened: string[] = [];
  const core = createHandlers({
    policy,
    appVersion: APP_VERSION,
    fetch: (input, init) => fetch(input, init),
    openExternal: async (url) => void opened.push(url),
    secrets: keytarSecretStore(keychainService),
    chooseSavePath: async (request) => join(workDir, request.defaultName),
    log: createRotatingLog({ dir: join(workDir, 'logs') }),
    lockCheckIntervalMs: 500,
    userDataDir: join(workDir, 'profile'),
  });
  await core.start();
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: false });
  const page = await context.newPage();
  const unexpose = await exposeCoreToPage(page, core, { allowedOrigin: new URL(rendererUrl).origin });
  await page.goto(rendererUrl);
  return {
    page,
    openedUrls: async () => opened,
    close: async () => {
      unexpose();
      core.dispose();
      await context.close();
    },
  };
}

/**
 * The real app through Playwright's Electron support, where a binary exists
 * (ELECTRON_PATH, or an installed electron package). Development configuration
 * comes from the environment; only the OS edge inside the main process is
 * replaced: shell.openExternal records the URL (the test's system browser opens
 * it) and the save dialog answers with a path in the test's folder.
 * Note: no Electron binary can be obtained on the CI machines here, so this
 * path has not run there; the report says which mode ran.
 */
async function launchElectronApp(
  executablePath: string,
  stack: Stack,
  keychainService: string,
  workDir: string,
  options: ConsoleOptions,
): Promise<Launched> {
  const app = await _electron.launch({
    executablePath,
    args: [REPO_ROOT],
    env: {
      ...process.env,
      CIMS_ISSUER: stack.info.issuer,
      CIMS_CLIENT_ID: stack.info.clientId,
      CIMS_API_BASE_URL: stack.relay.url,
      CIMS_API_AUDIENCE: stack.info.audience,
      CIMS_SCOPE: stack.info.scope,
      ...(options.inactivityTimeoutMinutes ? { CIMS_INACTIVITY_MINUTES: String(options.inactivityTimeoutMinutes) } : {}),
      ...(options.tokenBinding ? { CIMS_TOKEN_BINDING: options.tokenBinding } : {}),
      CIMS_AUDIT_PUBLIC_KEYS_PEM: stack.auditPublicKey,
      CIMS_KEYCHAIN_SERVICE: keychainService,
      CIMS_USER_DATA_DIR: join(workDir, 'profile'),
    },
  });
  await app.evaluate(({ shell, dialog }, saveDir) => {
    const opened: string[] = [];
    Object.assign(globalThis, { __cimsOpened: opened });
    shell.openExternal = async (url: string) => void opened.push(url);
    const answer = async (...args: unknown[]) => {
      const options = (args.length > 1 ? args[1] : args[0]) as { defaultPath?: string };
      const name = (options.defaultPath ?? 'export.csv').split(/[\\/]/).pop();
      return { canceled: false, filePath: `${saveDir}/${name}` };
    };
    dialog.showSaveDialog = answer as typeof dialog.showSaveDialog;
  }, workDir);
  const page = await app.firstWindow();
  await page.setViewportSize({ width: 1280, height: 800 });
  return {
    page,
    openedUrls: () => app.evaluate(() => [...((globalThis as { __cimsOpened?: string[] }).__cimsOpened ?? [])]),
    close: () => app.close(),
  };
}

export { expect };
