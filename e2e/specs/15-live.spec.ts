// Live changes: another console's save shows on an open record within a second,
// without a reload, and an open edit form warns and offers the re-apply view
// before its own save (instead of a 412 after it).
import { mkdirSync } from 'node:fs';
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { expect, test } from '../support/fixtures';
import { auditOf, editAndReview, openCustomer } from './support';

const SHOTS = '/tmp/shots/live';

/** Screenshots in light and dark, each checked with axe (no serious or critical finding). */
async function shots(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.screenshot({ path: `${SHOTS}/${name}-${scheme}.png` });
    const found = (await new AxeBuilder({ page }).analyze()).violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(found.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`), `${name} (${scheme})`).toEqual([]);
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

test('two consoles on one record: a save shows in the other within a second, and an open edit form warns before its save', async ({ openConsole, stack }) => {
  const { rows } = await stack.db.query<{ org_id: string }>(
    `SELECT org_id FROM core.customers WHERE owner_sub = 'alice' AND status = 'active' ORDER BY org_id OFFSET 3 LIMIT 1`,
  );
  const orgId = rows[0]!.org_id;
  // Alice at her desk, Alice on her laptop (a second console), and Bob, a support lead, reading the same record.
  const desk = await openConsole();
  await desk.signIn(stack.account('alice'));
  const laptop = await openConsole();
  await laptop.signIn(stack.account('alice'));
  const lead = await openConsole();
  await lead.signIn(stack.account('bob'));
  for (const c of [desk, laptop, lead]) await openCustomer(c.page, orgId);

  // 1. The desk saves a new phone number; the others show it without a reload.
  const phone = `+44 20 7946 ${String(Date.now() % 10_000).padStart(4, '0')}`;
  await editAndReview(desk.page, { 'Contact phone': phone }, 'Customer gave a new number');
  await desk.page.getByRole('dialog', { name: 'Review changes' }).getByRole('button', { name: 'Save changes' }).click();
  await expect(desk.page.getByRole('table', { name: 'Record history' })).toContainText(phone);
  const saved = Date.now();
  await expect(lead.page.getByText(phone).first()).toBeVisible({ timeout: 1_000 });
  await expect(laptop.page.getByText(phone).first()).toBeVisible({ timeout: 1_000 });
  const shownAfterMs = Date.now() - saved;
  test.info().annotations.push({ type: 'live update shown after (ms, from the save being answered)', description: String(shownAfterMs) });
  await expect(lead.page.locator('[data-live-update]')).toHaveText(/Updated by Alice Martin just now · Contact phone/);
  await expect(laptop.page.locator('[data-live-update]')).toHaveText(/Updated by You \(in another window\) just now/);
  await shots(lead.page, 'record-updated-live');

  // 2. The laptop starts an edit; the desk saves another change meanwhile.
  await laptop.page.getByRole('button', { name: 'Edit customer' }).click();
  await laptop.page.getByLabel('Contact name', { exact: false }).first().fill('Ada Lovelace');
  await laptop.page.getByLabel('Reason for this change').fill('New main contact');
  const email = `billing.${Date.now() % 100_000}@example.com`;
  await editAndReview(desk.page, { 'Contact email': email }, 'Billing address moved');
  await desk.page.getByRole('dialog', { name: 'Review changes' }).getByRole('button', { name: 'Save changes' }).click();
  await expect(desk.page.getByRole('table', { name: 'Record history' })).toContainText(email);

  const warning = laptop.page.locator('[data-live-warning]');
  await expect(warning).toBeVisible({ timeout: 1_000 });
  await expect(warning).toContainText('changed Contact email while you were editing');
  await shots(laptop.page, 'edit-form-warning');

  // 3. Review goes to the re-apply view first, not to a save that would be refused.
  const before = (await auditOf(stack, orgId)).length;
  await laptop.page.getByRole('button', { name: 'Review changes' }).click();
  const conflict = laptop.page.getByRole('alert').filter({ hasText: 'Someone else changed this customer while you were editing' });
  await expect(conflict.getByRole('list', { name: 'Changes by someone else' })).toContainText(email);
  await expect(laptop.page.getByRole('dialog', { name: 'Review changes' })).toHaveCount(0);
  await conflict.getByRole('button', { name: 'Re-apply my changes on top' }).click();
  const review = laptop.page.getByRole('dialog', { name: 'Review changes' });
  await expect(review.getByRole('table', { name: 'Changes to save' })).toContainText('Ada Lovelace');
  await review.getByRole('button', { name: 'Save changes' }).click();
  await expect(laptop.page.getByRole('table', { name: 'Record history' })).toContainText('Ada Lovelace');

  // Nothing lost, and no refused save on the way: one new audit event, the laptop's.
  const { rows: after } = await stack.db.query(`SELECT contact_name, contact_email, contact_phone FROM core.customers WHERE org_id = $1`, [orgId]);
  expect(after[0]).toEqual({ contact_name: 'Ada Lovelace', contact_email: email, contact_phone: phone });
  expect((await auditOf(stack, orgId)).length).toBe(before + 1);
});
