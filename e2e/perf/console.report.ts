// The console's own speed, measured as a CRM uses it on the real stack (the
// e2e harness: built renderer in Chromium, the real core, provider, API and
// PostgreSQL). A report, not a timed test: it prints p50/p95 of each step and
// the goals of bench/README.md beside them, and fails only when a step fails.
//
//   npm run build:renderer && CIMS_E2E_CUSTOMERS=20000 npm run bench:console
//
// Opening a record and a save are timed in the page, from the click's own event
// time to the first animation frame after the record (or the new "Saved") is in
// the DOM: Playwright's view of the same step adds its click's checks and the
// 100/250/500 ms steps its assertions poll in, and is printed beside it.
import type { CDPSession, Page } from '@playwright/test';
import { expect, test } from '../support/fixtures';
import { customerOf, editAndReview, goTo } from '../specs/support';
import { INITIAL_JS_GOAL_KB, measureBundle } from './console-size';

const SIGN_INS = Number(process.env.CONSOLE_REPORT_SIGN_INS ?? 5);
const REPEATS = Number(process.env.CONSOLE_REPORT_REPEATS ?? 10);
const SCROLL_SECONDS = Number(process.env.CONSOLE_REPORT_SCROLL_SECONDS ?? 30);
// Then pages are loaded (the table kept at its end) until the whole result is or this time is up, and the loaded rows scrolled again.
const LOAD_SECONDS = Number(process.env.CONSOLE_REPORT_LOAD_SECONDS ?? 180);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
};
const lines: string[] = [];
const report = (name: string, ms: number[], goal: number | null, unit = 'ms') =>
  lines.push(
    `${name.padEnd(56)} n=${String(ms.length).padStart(4)}  p50 ${pct(ms, 50).toFixed(0).padStart(6)} ${unit}  p95 ${pct(ms, 95).toFixed(0).padStart(6)} ${unit}` +
      (goal === null ? '' : `  goal p95 ≤ ${goal} ${unit}: ${pct(ms, 95) <= goal ? 'met' : 'NOT met'}`),
  );

async function heapMb(cdp: CDPSession): Promise<number> {
  const { metrics } = (await cdp.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] };
  return (metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? NaN) / 1024 / 1024;
}

/** Keeps the customers table at its end, so page after page loads, until all are or `seconds` pass; returns the rows loaded and the seconds it took. */
async function loadAll(page: Page, seconds: number): Promise<{ rows: number; seconds: number }> {
  return page.evaluate(async (ms) => {
    const table = document.querySelector<HTMLElement>('[role="table"][aria-label="Customers"]')!;
    const scroller = table.querySelector<HTMLElement>('.vt-body')!;
    const started = performance.now();
    await new Promise<void>((resolve) => {
      const tick = (now: number) => {
        scroller.scrollTop = scroller.scrollHeight;
        // aria-rowcount is -1 while more pages can load.
        if (table.getAttribute('aria-rowcount') !== '-1' || now - started > ms) resolve();
        else requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    const count = Number(table.getAttribute('aria-rowcount'));
    const rows = count > 0 ? count - 1 : Math.round(scroller.scrollHeight / 36);
    scroller.scrollTop = 0;
    return { rows, seconds: (performance.now() - started) / 1000 };
  }, seconds * 1000);
}

/** Frame intervals (requestAnimationFrame) while the page scrolls the customers table for `seconds`. */
async function scrollFrames(page: Page, seconds: number): Promise<{ frames: number[]; rows: number }> {
  return page.evaluate(async (ms) => {
    const scroller = document.querySelector<HTMLElement>('[role="table"][aria-label="Customers"] .vt-body');
    if (!scroller) throw new Error('no scrolling table');
    let rows = 0;
    const frames: number[] = [];
    let last = performance.now();
    const end = last + ms;
    await new Promise<void>((resolve) => {
      const tick = (now: number) => {
        frames.push(now - last);
        last = now;
        // A fast wheel: 600 px a frame, always toward the end (new pages load as it nears it).
        scroller.scrollTop += 600;
        for (const r of scroller.querySelectorAll('[role="row"][aria-rowindex]')) rows = Math.max(rows, Number(r.getAttribute('aria-rowindex')) - 1);
        if (now < end) requestAnimationFrame(tick);
        else resolve();
      };
      requestAnimationFrame(tick);
    });
    return { frames: frames.slice(1), rows };
  }, seconds * 1000);
}

type ProbeTarget = 'record' | 'saved';

/**
 * Arms a probe in the page for the next click: it keeps the click event's time
 * and the time of the first animation frame after `what` is in the DOM (the
 * record's heading and its Contact card, or a "Saved" that was not there before).
 */
async function armProbe(page: Page, what: ProbeTarget): Promise<void> {
  await page.evaluate((target) => {
    const savedNodes = () => {
      const found: Node[] = [];
      const xp = document.evaluate("//*[normalize-space(text())='Saved']", document, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null);
      for (let i = 0; i < xp.snapshotLength; i++) found.push(xp.snapshotItem(i)!);
      return found;
    };
    const before = new Set(target === 'saved' ? savedNodes() : []);
    const probe = { click: NaN, shown: NaN };
    (window as unknown as { __probe: typeof probe }).__probe = probe;
    const done = () =>
      target === 'record'
        ? document.getElementById('customer-title') !== null && document.querySelector('[aria-label="Contact"]') !== null
        : savedNodes().some((n) => !before.has(n));
    let seen = false;
    const check = () => {
      if (seen || Number.isNaN(probe.click) || !done()) return;
      seen = true;
      observer.disconnect();
      requestAnimationFrame(() => (probe.shown = performance.now()));
    };
    const observer = new MutationObserver(check);
    observer.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
    document.addEventListener(
      'click',
      (e) => {
        probe.click = e.timeStamp;
        queueMicrotask(check);
      },
      { capture: true, once: true },
    );
  }, what);
}

/** ms from the armed click to the frame that showed it, as the page saw them. */
async function probeResult(page: Page): Promise<number> {
  const handle = await page.waitForFunction(
    () => {
      const p = (window as unknown as { __probe?: { click: number; shown: number } }).__probe;
      return p && !Number.isNaN(p.shown) ? p.shown - p.click : null;
    },
    undefined,
    { timeout: 60_000 },
  );
  return (await handle.jsonValue()) as number;
}

test('console report', async ({ openConsole, stack }) => {
  // Sign-in: from the provider's answer (the core holds the session) to the first portfolio row.
  const signIn: number[] = [];
  const clickToRow: number[] = [];
  let kept: Awaited<ReturnType<typeof openConsole>> | null = null;
  for (let i = 0; i < SIGN_INS; i++) {
    const app = await openConsole();
    const clicked = Date.now();
    await app.signIn(stack.account('alice'));
    const returned = Date.now();
    await expect(app.page.getByRole('heading', { name: /portfolio/i })).toBeVisible();
    const table = app.page.getByRole('table').or(app.page.getByRole('grid')).first();
    await expect(table.getByRole('row').nth(1)).toBeVisible();
    signIn.push(Date.now() - returned);
    clickToRow.push(Date.now() - clicked);
    if (i < SIGN_INS - 1) await app.close();
    else kept = app;
  }
  const page = kept!.page;

  // Opening a record: from the click on its row to its heading and id on screen.
  const { rows } = await stack.db.query<{ org_id: string }>(
    `SELECT org_id FROM core.customers WHERE owner_sub = 'alice' AND status = 'active' ORDER BY org_id LIMIT $1`,
    [REPEATS],
  );
  /** Searches for the id, then opens its row; returns ms from the click to the record on screen, in the page and as Playwright saw it. */
  const openRecord = async (orgId: string): Promise<{ inPage: number; outside: number }> => {
    await goTo(page, 'Customers');
    await page.getByRole('textbox', { name: 'Search' }).fill(orgId);
    const results = page.getByRole('table', { name: 'Customers' });
    // The previous search's one row may still be shown: wait for this one's.
    await expect(results.getByRole('row')).toHaveCount(2);
    await expect(results.getByRole('row').nth(1)).toContainText(orgId);
    await armProbe(page, 'record');
    const started = Date.now();
    await results.getByRole('row').nth(1).getByRole('button').first().click();
    // The record itself: its card (the list's row shows the id too, so the id alone would pass at once).
    await expect(page.getByRole('region', { name: 'Contact' })).toBeVisible();
    await expect(page.getByText(orgId, { exact: true })).toBeVisible();
    const outside = Date.now() - started;
    return { inPage: await probeResult(page), outside };
  };
  const open: number[] = [];
  const openOutside: number[] = [];
  for (const { org_id: orgId } of rows) {
    const t = await openRecord(orgId);
    open.push(t.inPage);
    openOutside.push(t.outside);
  }

  // A save: from "Save changes" in the review to the confirmation.
  const save: number[] = [];
  const saveOutside: number[] = [];
  const target = await customerOf(stack, 'alice');
  await openRecord(target.orgId);
  for (let i = 0; i < REPEATS; i++) {
    await editAndReview(page, { 'Contact name': `Report Contact ${i}` }, `Report save ${i}`);
    // A "Saved" of the previous round may still be on screen (or leaving): the probe waits for a new one.
    await armProbe(page, 'saved');
    const started = Date.now();
    await page.getByRole('dialog', { name: 'Review changes' }).getByRole('button', { name: 'Save changes' }).click();
    save.push(await probeResult(page));
    saveOutside.push(Date.now() - started);
    await expect(page.getByRole('button', { name: 'Edit customer' })).toBeVisible();
  }

  // Scrolling the whole customer list (every customer, pages of the API loaded as it goes).
  await goTo(page, 'Customers');
  await page.getByRole('textbox', { name: 'Search' }).fill('');
  await expect(page.getByRole('table', { name: 'Customers' }).getByRole('row').nth(1)).toBeVisible();
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const { frames, rows: loaded } = await scrollFrames(page, SCROLL_SECONDS);
  const heapWhileLoading = await heapMb(cdp);
  const all = await loadAll(page, LOAD_SECONDS);
  await page.waitForTimeout(500);
  const { frames: loadedFrames, rows: reached } = await scrollFrames(page, SCROLL_SECONDS);
  const heap = await heapMb(cdp);
  // What the loaded rows keep, without the garbage a collection would free.
  await cdp.send('HeapProfiler.collectGarbage');
  const retained = await heapMb(cdp);
  const { count } = (await stack.db.query<{ count: string }>(`SELECT count(*) FROM core.customers WHERE status = 'active'`)).rows[0]!;

  const bundle = measureBundle();
  report('sign-in: provider answer → first portfolio row', signIn, 1500);
  report('sign-in: click → first portfolio row (with the provider page)', clickToRow, null);
  report('open a record: click → record shown (in the page)', open, 300);
  report('open a record: as Playwright sees it (its click and polling)', openOutside, null);
  report('save: Save changes → "Saved" (in the page)', save, 300);
  report('save: as Playwright sees it (its click and the probe)', saveOutside, null);
  report(`scroll frame times, pages loading (${SCROLL_SECONDS} s, reached row ${loaded} of ${count})`, frames, 16);
  report(`scroll frame times, ${all.rows} rows loaded (${SCROLL_SECONDS} s from the top, to row ${reached})`, loadedFrames, 16);
  lines.push(`rows loaded: ${all.rows} of ${count} (${all.seconds.toFixed(0)} s of loading at the end of the table, at most ${LOAD_SECONDS} s)`);
  lines.push(`renderer heap after the first scroll: ${heapWhileLoading.toFixed(1)} MB; with ${all.rows} rows loaded: ${heap.toFixed(1)} MB (goal < 150 MB): ${heap < 150 ? 'met' : 'NOT met'}; after a collection: ${retained.toFixed(1)} MB`);
  lines.push(`initial JavaScript: ${bundle.initialKb.toFixed(1)} kB gzip (goal ≤ ${INITIAL_JS_GOAL_KB} kB): ${bundle.initialKb <= INITIAL_JS_GOAL_KB ? 'met' : 'NOT met'}`);
  console.log(`\nConsole report, ${new Date().toISOString().slice(0, 16)}Z, ${count} active customers\n${lines.join('\n')}\n`);
});
