// Screenshots of every screen, light and dark, 1280×800, in Debian's Chromium.
// Run after `npm run build:renderer`:  npx tsx scripts/renderer-screenshots.ts
//
// LOOKING ONLY, NOT A TEST. `window.cims` here is a stand-in fed with demo data
// (renderer/dev/demo.ts) through page.exposeFunction, so states that are hard to
// reach for real (errors, offline, conflicts) can be looked at in both themes. It
// proves nothing about the main process or the API: the end-to-end specs do that,
// and save their own screenshots of the real system to e2e/artifacts/screens.
// It builds nothing: it serves the built dist/renderer/ as it is.
import AxeBuilder from '@axe-core/playwright';
import { chromium, type Page } from '@playwright/test';
import { channels, IpcError, type Channel, type IpcResult, type SessionState } from '../shared/ipc';
import { accessEvent, ALICE, approvalRules, auditEvent, BOB, changeRequest, DEMO_KEY_ID, detail, ISSUER, listItem, portfolioSummary, signedIn, usage, verifyOutcome } from '../renderer/dev/demo';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../testing/chromium';

const dist = decodeURIComponent(new URL('../dist/renderer/', import.meta.url).pathname);
const outDir = process.env.SHOTS_DIR ? `${process.env.SHOTS_DIR.replace(/\/$/, '')}/` : decodeURIComponent(new URL('../e2e/artifacts/screens/', import.meta.url).pathname);
const ORIGIN = 'http://console.local';

type Handler = (channel: Channel, input: Record<string, unknown>) => unknown;

interface Shot {
  name: string;
  session: SessionState;
  route?: unknown;
  handler?: Handler;
  makeHandler?: () => Handler;
  /** Runs after the page settles, before the picture. */
  act?: (page: Page) => Promise<void>;
}

const TOTAL = 100_000;
// Alice's counts over all TOTAL demo rows, as the API counts a whole portfolio (computed once, when first asked).
let aliceSummary: ReturnType<typeof portfolioSummary> | undefined;
const aliceCounts = () =>
  (aliceSummary ??= portfolioSummary(Array.from({ length: TOTAL }, (_, k) => listItem(k + 1)).filter((c) => c.ownerSub === 'alice')));
const demoHandler: Handler = (channel, input) => {
  switch (channel) {
    case 'customers:list': {
      const start = input.cursor ? Number(input.cursor) : 1;
      const limit = Number(input.limit ?? 50);
      const mine = input.owner === 'me';
      const items = Array.from({ length: limit }, (_, k) => listItem(start + k)).filter((c) => !mine || c.ownerSub === 'alice');
      if (input.sort === 'churnRisk') items.sort((a, b) => (b.churnRisk ?? -1) - (a.churnRisk ?? -1));
      return { items, nextCursor: start + limit < TOTAL ? String(start + limit) : null };
    }
    case 'portfolio:summary':
      return aliceCounts();
    case 'customers:get':
      return detail(String(input.orgId));
    case 'customers:usage':
      return usage(Number(input.days));
    case 'customers:audit':
      return { items: [auditEvent(1), auditEvent(4), auditEvent(9)], nextCursor: null };
    case 'audit:events':
      return { items: Array.from({ length: 24 }, (_, n) => auditEvent(n)), nextCursor: 'next' };
    case 'audit:verify':
      return verifyOutcome();
    case 'customers:access':
      return { items: [accessEvent(0, { orgId: String(input.orgId) }), accessEvent(1, { detail: { query: { q: 'Acme' }, orgIds: [String(input.orgId)] } }), accessEvent(3, { orgId: String(input.orgId) })], nextCursor: null };
    case 'audit:access':
      return { items: Array.from({ length: 24 }, (_, n) => accessEvent(n)), nextCursor: 'next' };
    case 'session:activity':
      return null;
    case 'approvals:rules':
      return approvalRules();
    case 'approvals:list':
      // ORG-000002 has alice's pending change; the queue holds it, an archive of bob's own and two more.
      if (input.orgId) return { items: input.orgId === 'ORG-000002' ? [changeRequest(0)] : [], nextCursor: null };
      return { items: demoQueue(), nextCursor: null };
    case 'approvals:get':
      return demoQueue().find((r) => r.id === input.id) ?? changeRequest(0);
    default:
      throw new Error(`no demo data for ${channel}`);
  }
};

function demoQueue() {
  return [
    changeRequest(0),
    changeRequest(1, { maker: { sub: 'bob', name: 'Bob Keller' }, kind: 'archive', changes: [{ field: 'status', before: 'active', after: 'archived' }], reason: 'Duplicate record of a merged account' }),
    changeRequest(2, { changes: [{ field: 'userCount', before: 124, after: 180 }], reason: 'Customer added a team of 56 seats (signed order form)' }),
    changeRequest(3, { maker: { sub: 'carol', name: 'Carol Nguyen' }, changes: [{ field: 'currency', before: 'EUR', after: 'CHF' }], reason: 'Billing moves to the Zurich entity' }),
  ];
}

const signingIn: SessionState = {
  status: 'signingIn',
  issuer: ISSUER,
  user: null,
  message: null,
  signInUrl: `${ISSUER}/auth?client_id=cims-console&response_type=code&code_challenge_method=S256&code_challenge=Zk3x9f0a&state=q8e1&redirect_uri=http%3A%2F%2F127.0.0.1%3A53122%2Fcallback`,
  signInDeadline: new Date(Date.now() + 4 * 60_000 + 31_000).toISOString(),
};

const allShots: Shot[] = [
  { name: 'sign-in', session: { ...signingIn, status: 'signedOut', signInUrl: null, signInDeadline: null } },
  { name: 'sign-in-failed', session: { ...signingIn, status: 'signedOut', signInUrl: null, signInDeadline: null, message: 'Sign-in was cancelled in the browser. Try again when you are ready.' } },
  { name: 'signing-in', session: signingIn },
  { name: 'locked', session: { ...signedIn(ALICE), status: 'locked', message: 'Locked after 15 minutes without activity.' }, route: { name: 'customers' } },
  { name: 'portfolio', session: signedIn(ALICE) },
  {
    name: 'portfolio-summary-error',
    session: signedIn(ALICE),
    handler: (c, i) => (c === 'portfolio:summary' ? { error: { code: 'unavailable', message: 'API unreachable' } } : demoHandler(c, i)),
    // Retried with back-off like any unreachable read before the error shows.
    act: (p) => p.getByText('Could not load the portfolio summary').waitFor({ timeout: 10_000 }),
  },
  {
    // How Alice's recent change requests ended, above her portfolio's counts.
    name: 'portfolio-outcomes',
    session: signedIn(ALICE),
    handler: (c, i) =>
      c === 'approvals:list' && !i.orgId
        ? {
            items: [
              changeRequest(2, { status: 'approved', checker: { sub: 'bob', name: 'Bob Keller' }, checkerReason: 'Order form checked', decidedAt: new Date(Date.now() - 3_600_000).toISOString(), version: 2 }),
              changeRequest(4, { status: 'rejected', checker: { sub: 'bob', name: 'Bob Keller' }, checkerReason: 'No signed order form attached yet', decidedAt: new Date(Date.now() - 5 * 3_600_000).toISOString(), version: 2 }),
              changeRequest(5, { status: 'stale', decidedAt: new Date(Date.now() - 26 * 3_600_000).toISOString(), version: 2 }),
              changeRequest(0),
            ],
            nextCursor: null,
          }
        : demoHandler(c, i),
  },
  { name: 'customers', session: signedIn(BOB), route: { name: 'customers' } },
  {
    name: 'customers-search-empty',
    session: signedIn(ALICE),
    route: { name: 'customers' },
    handler: (c, i) => (c === 'customers:list' ? { items: [], nextCursor: null } : demoHandler(c, i)),
    act: async (p) => {
      await p.getByLabel('Search').fill('zzz-nothing');
      await p.waitForTimeout(500);
    },
  },
  {
    name: 'customers-error',
    session: signedIn(ALICE),
    route: { name: 'customers' },
    handler: (c, i) => (c === 'customers:list' ? { error: { code: 'unavailable', message: 'API unreachable' } } : demoHandler(c, i)),
    // Unreachable is retried twice with back-off before the error shows.
    act: (p) => p.getByText('Could not load customers').waitFor({ timeout: 10_000 }),
  },
  { name: 'customer', session: signedIn(ALICE), route: { name: 'customer', orgId: 'ORG-000001' } },
  {
    // The prediction panel: factors in words, model version, and a CRM's 'Looks wrong?' being written.
    name: 'customer-prediction-feedback',
    session: signedIn(ALICE),
    route: { name: 'customer', orgId: 'ORG-000001' },
    act: async (p) => {
      const churn = p.getByRole('region', { name: 'Churn risk' });
      await churn.getByRole('button', { name: 'Looks wrong? Churn risk' }).click();
      await churn.getByRole('textbox').fill('They signed a three-year renewal last week; usage dipped during their migration.');
      await p.getByRole('region', { name: 'Upsell propensity' }).scrollIntoViewIfNeeded();
    },
  },
  {
    name: 'edit',
    session: signedIn(ALICE),
    route: { name: 'edit', orgId: 'ORG-000001' },
    act: async (p) => {
      await p.getByLabel('Contact email').fill('ada@example');
      await p.getByLabel('Reason for this change').fill('Customer asked');
    },
  },
  {
    name: 'edit-review',
    session: signedIn(ALICE),
    route: { name: 'edit', orgId: 'ORG-000001' },
    act: async (p) => {
      await p.getByLabel('Contact name').fill('Barbara Liskov');
      await p.getByLabel('Reason for this change').fill('New main contact after reorganisation');
      await p.getByRole('button', { name: 'Review changes' }).click();
    },
  },
  {
    name: 'edit-conflict',
    session: signedIn(ALICE),
    route: { name: 'edit', orgId: 'ORG-000001' },
    // A fresh handler per page: the first read is the record as the CRM opened it, later reads see the other person's save.
    makeHandler: () => {
      let reads = 0;
      return (c: Channel, i: Record<string, unknown>) => {
        if (c === 'customers:update') return { error: { code: 'conflict', message: 'Someone else changed this customer', status: 412 } };
        if (c === 'customers:get' && reads++ > 0) return detail('ORG-000001', { version: 4, contactPhone: '+49 30 5550100', updatedAt: new Date().toISOString() });
        return demoHandler(c, i);
      };
    },
    act: async (p) => {
      await p.getByLabel('Contact name').fill('Barbara Liskov');
      await p.getByLabel('Reason for this change').fill('New main contact after reorganisation');
      await p.getByRole('button', { name: 'Review changes' }).click();
      await p.getByRole('button', { name: 'Save changes' }).click();
      await p.getByText('Re-apply my changes on top').waitFor();
      await p.waitForTimeout(400);
    },
  },
  { name: 'new-customer', session: signedIn(ALICE), route: { name: 'new' } },
  {
    name: 'customer-who-viewed',
    session: signedIn(BOB),
    route: { name: 'customer', orgId: 'ORG-000001' },
    act: async (p) => {
      await p.getByRole('region', { name: 'Who viewed this record' }).scrollIntoViewIfNeeded();
    },
  },
  {
    name: 'customer-who-viewed-error',
    session: signedIn(BOB),
    route: { name: 'customer', orgId: 'ORG-000001' },
    handler: (channel, input) =>
      channel === 'customers:access' ? { error: { code: 'unavailable', message: 'The CIMS API could not be reached.' } } : demoHandler(channel, input),
    act: async (p) => {
      // The app retries a failed read once before it shows the error.
      await p.getByText('Could not load who viewed this record').waitFor({ timeout: 10_000 });
      await p.getByRole('region', { name: 'Who viewed this record' }).scrollIntoViewIfNeeded();
    },
  },
  {
    name: 'audit-access',
    session: signedIn(BOB),
    route: { name: 'audit' },
    act: async (p) => {
      await p.getByText('Access', { exact: true }).click();
      await p.getByText('24 access events shown, newest first').waitFor();
    },
  },
  { name: 'audit', session: signedIn(BOB), route: { name: 'audit' } },
  {
    name: 'audit-verified',
    session: signedIn(BOB),
    route: { name: 'audit' },
    act: async (p) => {
      await p.getByRole('button', { name: 'Verify integrity' }).click();
      await p.getByText('Audit trail intact').waitFor();
    },
  },
  {
    name: 'audit-unsealed',
    session: signedIn(BOB),
    route: { name: 'audit' },
    handler: (c, i) => (c === 'audit:verify' ? verifyOutcome({ unsealed: 37, accessUnsealed: 5 }) : demoHandler(c, i)),
    act: async (p) => {
      await p.getByRole('button', { name: 'Verify integrity' }).click();
      await p.getByText('37 recent events and 5 access events are not sealed yet').waitFor();
    },
  },
  {
    // The trail was cut back and its checkpoints rewritten: the API's own check passes, the console remembers #412.
    name: 'audit-damaged',
    session: signedIn(BOB),
    route: { name: 'audit' },
    handler: (c, i) =>
      c === 'audit:verify'
        ? verifyOutcome(
            { checked: 17_904, checkpoint: { seq: 3, signedAt: '2026-11-21T16:20:00.000Z', keyId: DEMO_KEY_ID } },
            { status: 'damaged', reason: 'missing', remembered: { seq: 412, signedAt: '2026-11-21T15:59:00.000Z', keyId: DEMO_KEY_ID, verifiedAt: '2026-11-21T16:00:04.000Z' } },
          )
        : demoHandler(c, i),
    act: async (p) => {
      await p.getByRole('button', { name: 'Verify integrity' }).click();
      await p.getByText(/is missing or changed/).waitFor();
    },
  },
  {
    name: 'audit-problem',
    session: signedIn(BOB),
    route: { name: 'audit' },
    handler: (c, i) =>
      c === 'audit:verify'
        ? verifyOutcome({ ok: false, problem: 'hash_mismatch', firstBadEventId: '982', chainSeq: '17321', detail: 'Event 982 does not hash to chain link 17321.' })
        : demoHandler(c, i),
    act: async (p) => {
      await p.getByRole('button', { name: 'Verify integrity' }).click();
      await p.getByText('Audit trail damaged').waitFor();
    },
  },
  {
    name: 'audit-unconfigured',
    session: signedIn(BOB),
    route: { name: 'audit' },
    handler: (c, i) => (c === 'audit:verify' ? verifyOutcome({}, { status: 'not_configured' }) : demoHandler(c, i)),
    act: async (p) => {
      await p.getByRole('button', { name: 'Verify integrity' }).click();
      await p.getByText('Checkpoint signatures not checked by this console').waitFor();
    },
  },
  {
    name: 'audit-evidence-download',
    session: signedIn(BOB),
    route: { name: 'audit' },
    handler: (c, i) => (c === 'audit:exportEvidence' ? new Promise(() => undefined) : demoHandler(c, i)),
    act: async (p) => {
      await p.getByRole('button', { name: 'Download evidence bundle' }).click();
      await p.evaluate("window.__emit('audit:exportProgress', { rows: 48210, done: false, bytes: 31457280 })");
      await p.getByText('48,210 rows written (30.0 MB)…').waitFor();
    },
  },
  { name: 'approvals', session: signedIn(BOB), route: { name: 'approvals' } },
  {
    // Bob's own request: no decision for him, another support lead decides.
    name: 'approvals-own-request',
    session: signedIn(BOB),
    route: { name: 'approvals' },
    act: async (p) => {
      await p.getByRole('button', { name: /#39/ }).click();
      await p.getByText('You made this request').waitFor();
    },
  },
  {
    name: 'approvals-empty',
    session: signedIn(BOB),
    route: { name: 'approvals' },
    handler: (c, i) => (c === 'approvals:list' ? { items: [], nextCursor: null } : demoHandler(c, i)),
  },
  { name: 'customer-pending-change', session: signedIn(ALICE), route: { name: 'customer', orgId: 'ORG-000002' } },
  {
    name: 'customer-stale-change',
    session: signedIn(ALICE),
    route: { name: 'customer', orgId: 'ORG-000002' },
    handler: (c, i) =>
      c === 'approvals:list' && i.orgId
        ? { items: [changeRequest(0, { status: 'stale', version: 2, decidedAt: new Date().toISOString() })], nextCursor: null }
        : demoHandler(c, i),
  },
  {
    name: 'customer-archive-dialog',
    session: signedIn(ALICE),
    route: { name: 'customer', orgId: 'ORG-000001' },
    act: async (p) => {
      await p.getByRole('button', { name: 'Archive…' }).click();
      await p.getByRole('textbox', { name: /Reason/ }).fill('The customer closed their account');
    },
  },
  {
    name: 'edit-needs-approval',
    session: signedIn(ALICE),
    route: { name: 'edit', orgId: 'ORG-000001' },
    act: async (p) => {
      await p.getByLabel('Users').fill('180');
      await p.getByLabel('Contact phone').fill('+49 30 5550199');
      await p.getByLabel('Reason for this change').fill('Customer added a team of 56 seats (signed order form)');
      await p.getByRole('button', { name: 'Review changes' }).click();
    },
  },
  {
    name: 'offline-banner',
    session: signedIn(ALICE),
    route: { name: 'customers' },
    act: async (p) => {
      await p.evaluate("window.__emit('api:connectivity', { reachable: false })");
    },
  },
];

const shots = process.env.SHOTS ? allShots.filter((s) => process.env.SHOTS!.split(',').includes(s.name)) : allShots;

/** The stand-in bridge, shaped like the preload's: invoke + on, plus __emit to push events. */
// The screen to open is stored as the app stores a user's last screen (renderer/app/routes.ts: routeKey).
const STAND_IN_BRIDGE = `function installBridge(route, owner) {
  if (route && owner) sessionStorage.setItem('cims.route.v1.' + owner, JSON.stringify(route));
  const listeners = {};
  window.__emit = function (event, payload) { (listeners[event] || new Set()).forEach(function (l) { l(payload); }); };
  window.cims = {
    invoke: function (channel, input) { return window.__cimsInvoke(channel, input); },
    on: function (event, listener) {
      (listeners[event] = listeners[event] || new Set()).add(listener);
      return function () { listeners[event].delete(listener); };
    },
  };
}`;

async function run() {
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  const problems: string[] = [];
  for (const scheme of ['light', 'dark'] as const) {
    for (const shot of shots) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: scheme });
      const page = await context.newPage();
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(`${shot.name}/${scheme}: ${m.text()}`);
        if (process.env.DEBUG_SHOTS) console.log(shot.name, m.type(), m.text());
      });
      page.on('pageerror', (e) => problems.push(`${shot.name}/${scheme}: ${e.message}`));
      await page.route(`${ORIGIN}/**`, (route) => {
        const path = new URL(route.request().url()).pathname.replace(/^\/+/, '') || 'index.html';
        return route.fulfill({ path: dist + path });
      });
      const handler = shot.makeHandler?.() ?? shot.handler ?? demoHandler;
      await page.exposeFunction('__cimsInvoke', async (channel: Channel, input: Record<string, unknown>): Promise<IpcResult<unknown>> => {
        if (channel === 'session:get') return { ok: true, data: shot.session };
        // A handler may answer later (a download still running when the picture is taken).
        const out: unknown = await handler(channel, input);
        if (out && typeof out === 'object' && 'error' in out) return { ok: false, error: IpcError.parse(out.error) };
        return { ok: true, data: channels[channel].output.parse(out) };
      });
      // The stand-in bridge, shaped like the preload's: invoke + on.
      // A string, not a function: tsx would wrap a function's inner helpers in names the page does not have.
      await page.addInitScript(`${STAND_IN_BRIDGE}; installBridge(${JSON.stringify(shot.route ?? null)}, ${JSON.stringify(shot.session.user?.sub ?? null)});`);
      await page.goto(`${ORIGIN}/index.html`);
      await page.waitForLoadState('networkidle');
      await page.waitForTimeout(600);
      if (shot.act) await shot.act(page);
      await page.waitForTimeout(300);
      await page.screenshot({ path: `${outDir}${shot.name}-${scheme}.png` });
      // A look at accessibility while we are here (the end-to-end suite is where it is asserted).
      const axe = await new AxeBuilder({ page }).analyze();
      for (const v of axe.violations.filter((x) => x.impact === 'serious' || x.impact === 'critical')) {
        problems.push(`${shot.name}/${scheme}: axe ${v.impact} ${v.id}: ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(' | ')}`);
      }
      await context.close();
    }
  }
  await browser.close();
  console.log(`saved ${shots.length * 2} screenshots to ${outDir}`);
  if (problems.length) {
    console.log('console errors:\n' + problems.join('\n'));
    process.exitCode = 1;
  }
}

void run();
