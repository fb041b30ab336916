// An admin's day and one undo, through the real console, API and database:
// - Erin (admin) sees the staff directory, moves all of Carol's customers to
//   Alice after a review step, and each CRM's portfolio shows it;
// - Alice changes a contact email, then reverts that change from the record's
//   history: the form comes filled with the old email and a prefilled reason, and
//   the saved event records revertOf.
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { expect, test } from '../support/fixtures';
import { customerOf, openCustomer } from './support';

async function seriousViolations(page: Page) {
  const result = await new AxeBuilder({ page }).analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
}

/** The Customers count of the portfolio summary, as the screen shows it. */
const portfolioCount = async (page: Page): Promise<number> => {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'My portfolio' }).click();
  const summary = page.getByRole('group', { name: 'Portfolio summary' });
  await expect(summary).toBeVisible();
  const value = await summary.getByText('Customers', { exact: true }).locator('xpath=following-sibling::*[1]').textContent();
  return Number(value?.replace(/\D/g, ''));
};

test('an admin moves all of a CRM\'s customers to another CRM after a review; both portfolios show it', async ({ openConsole, stack }) => {
  const owned = async (sub: string) =>
    Number((await stack.db.query<{ n: string }>(`SELECT count(*) AS n FROM core.customers WHERE owner_sub = $1 AND status = 'active'`, [sub])).rows[0]?.n);
  const carolBefore = await owned('carol');
  const aliceBefore = await owned('alice');
  expect(carolBefore).toBeGreaterThan(0);

  // Both CRMs sign in once, so the directory has seen them (an assignment names a CRM it has seen).
  const alice = await openConsole();
  await alice.signIn(stack.account('alice'));
  expect(await portfolioCount(alice.page)).toBe(aliceBefore);
  const carol = await openConsole();
  await carol.signIn(stack.account('carol'));
  expect(await portfolioCount(carol.page)).toBe(carolBefore);
  const carolsCustomer = await customerOf(stack, 'carol');

  const admin = await openConsole();
  await admin.signIn(stack.account('erin'));
  const page = admin.page;
  const nav = page.getByRole('navigation', { name: 'Main' });
  await expect(nav.getByRole('button', { name: 'My portfolio' })).toHaveCount(0);
  await nav.getByRole('button', { name: 'Admin' }).click();
  await expect(page.getByRole('heading', { name: 'Staff and assignments' })).toBeVisible();
  const staff = page.getByRole('table', { name: 'Staff' });
  const carolRow = staff.getByRole('row').filter({ hasText: 'carol' });
  await expect(carolRow).toContainText(String(carolBefore));
  await expect(staff.getByRole('row').filter({ hasText: 'alice' })).toContainText(String(aliceBefore));
  expect(await seriousViolations(page), 'admin').toEqual([]);
  await admin.screenshot('12-admin-staff-light');
  await page.emulateMedia({ colorScheme: 'dark' });
  await admin.screenshot('12-admin-staff-dark');
  await page.emulateMedia({ colorScheme: 'light' });

  await carolRow.getByRole('button', { name: /Move all customers of/ }).click();
  await page.getByRole('combobox', { name: 'To relationship manager' }).click();
  await page.getByRole('option', { name: /Alice/ }).click();
  await page.getByLabel('Reason').fill('Carol leaves the company; Alice takes over her accounts');
  await page.getByRole('button', { name: 'Review the move' }).click();
  const review = page.getByRole('dialog', { name: 'Review the move' });
  await expect(review).toContainText(`${carolBefore} active`);
  expect(await seriousViolations(page), 'admin review').toEqual([]);
  await admin.screenshot('12-admin-review-light');
  await page.emulateMedia({ colorScheme: 'dark' });
  await admin.screenshot('12-admin-review-dark');
  await page.emulateMedia({ colorScheme: 'light' });
  await review.getByRole('button', { name: 'Move customers' }).click();
  await expect(page.getByRole('status').filter({ hasText: /moved to Alice/ }).first()).toBeVisible();
  await expect(carolRow.getByRole('cell').nth(2)).toHaveText('0');

  // The database: every one of Carol's customers is Alice's, each with its own event and the reason.
  expect(await owned('carol')).toBe(0);
  expect(await owned('alice')).toBe(aliceBefore + carolBefore);
  const { rows: events } = await stack.db.query<{ n: string }>(
    `SELECT count(*) AS n FROM audit.events WHERE actor_sub = 'erin' AND reason = 'Carol leaves the company; Alice takes over her accounts'
        AND changes @> '[{"field": "ownerSub", "before": "carol", "after": "alice"}]'`,
  );
  expect(Number(events[0]?.n)).toBeGreaterThanOrEqual(carolBefore);

  // Each CRM's portfolio shows it when it loads again.
  await alice.page.reload();
  await alice.waitForStatus('signedIn');
  expect(await portfolioCount(alice.page)).toBe(aliceBefore + carolBefore);
  await carol.page.reload();
  await carol.waitForStatus('signedIn');
  await carol.page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'My portfolio' }).click();
  await expect(carol.page.getByText('No customers assigned to you')).toBeVisible();
  // The moved customer's record names its new owner, and Alice may edit it.
  await openCustomer(alice.page, carolsCustomer.orgId);
  await expect(alice.page.getByRole('button', { name: 'Edit customer' })).toBeVisible();

  // Put them back for the specs after this one (through the admin's own bridge: one more audited assignment).
  const { rows: moved } = await stack.db.query<{ entity_id: string }>(
    `SELECT entity_id FROM audit.events WHERE actor_sub = 'erin' AND changes @> '[{"field": "ownerSub", "before": "carol", "after": "alice"}]'`,
  );
  const restored = await page.evaluate(async (orgIds) => {
    const bridge = (window as unknown as { cims: import('../../shared/ipc').CimsBridge }).cims;
    return bridge.invoke('assignments:apply', { orgIds, toOwner: 'carol', reason: 'Test over: back to Carol' });
  }, moved.map((r) => r.entity_id));
  expect(restored).toMatchObject({ ok: true });
  expect(await owned('carol')).toBe(carolBefore);
});

test('a CRM reverts a changed email from the record history; the saved event records revertOf', async ({ openConsole, stack }) => {
  const customer = await customerOf(stack, 'alice');
  const app = await openConsole();
  await app.signIn(stack.account('alice'));
  const page = app.page;
  await openCustomer(page, customer.orgId);

  // The change to undo.
  await page.getByRole('button', { name: 'Edit customer' }).click();
  await page.getByLabel('Contact email').fill('wrong.address@example.test');
  await page.getByLabel('Reason for this change').fill('New contact person');
  await page.getByRole('button', { name: 'Review changes' }).click();
  await page.getByRole('dialog', { name: 'Review changes' }).getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByText('wrong.address@example.test').first()).toBeVisible();
  const { rows: changed } = await stack.db.query<{ id: string }>(
    `SELECT id::text FROM audit.events WHERE entity_id = $1 AND changes @> '[{"field": "contactEmail"}]' ORDER BY id DESC LIMIT 1`,
    [customer.orgId],
  );
  const changeId = changed[0]!.id;

  const history = page.getByRole('table', { name: 'Record history' });
  await history.getByRole('button', { name: `Revert change #${changeId}` }).click();
  await expect(page.getByRole('status').filter({ hasText: `Reverting change #${changeId}` })).toBeVisible();
  await expect(page.getByLabel('Contact email')).toHaveValue(customer.contactEmail);
  await expect(page.getByLabel('Reason for this change')).toHaveValue(`Revert of change #${changeId}`);
  expect(await seriousViolations(page), 'revert form').toEqual([]);
  await app.screenshot('12-revert-form-light');
  await page.emulateMedia({ colorScheme: 'dark' });
  await app.screenshot('12-revert-form-dark');
  await page.emulateMedia({ colorScheme: 'light' });
  await page.getByRole('button', { name: 'Review changes' }).click();
  const review = page.getByRole('dialog', { name: 'Review changes' });
  await expect(review).toContainText(customer.contactEmail);
  await review.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByRole('table', { name: 'Record history' }).getByText(`reverts #${changeId}`)).toBeVisible();

  const { rows } = await stack.db.query<{ contact_email: string }>('SELECT contact_email FROM core.customers WHERE org_id = $1', [customer.orgId]);
  expect(rows[0]!.contact_email).toBe(customer.contactEmail);
  const { rows: last } = await stack.db.query<{ revert_of: string; reason: string; changes: unknown }>(
    `SELECT revert_of::text, reason, changes FROM audit.events WHERE entity_id = $1 ORDER BY id DESC LIMIT 1`,
    [customer.orgId],
  );
  expect(last[0]).toMatchObject({
    revert_of: changeId,
    reason: `Revert of change #${changeId}`,
    changes: [{ field: 'contactEmail', before: 'wrong.address@example.test', after: customer.contactEmail }],
  });
});
