// Small steps the specs share, written as a CRM would do them.
import type { Page } from '@playwright/test';
import { expect, type Stack } from '../support/fixtures';

/** The first active customer of `owner` (by org id), from the database itself. */
export async function customerOf(stack: Stack, owner: string): Promise<{ orgId: string; orgName: string; contactEmail: string }> {
  const { rows } = await stack.db.query<{ org_id: string; org_name: string; contact_email: string }>(
    `SELECT org_id, org_name, contact_email FROM core.customers WHERE owner_sub = $1 AND status = 'active' ORDER BY org_id LIMIT 1`,
    [owner],
  );
  const row = rows[0];
  if (!row) throw new Error(`no customer of ${owner}`);
  return { orgId: row.org_id, orgName: row.org_name, contactEmail: row.contact_email };
}

/** Follows the main navigation. */
export async function goTo(page: Page, section: 'My portfolio' | 'Customers' | 'Audit review'): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: section }).click();
}

/** Opens a customer from the Customers screen by searching for its org id. */
export async function openCustomer(page: Page, orgId: string): Promise<void> {
  await goTo(page, 'Customers');
  // The box itself: once it holds text, "Clear search" is labelled Search too.
  const search = page.getByRole('textbox', { name: 'Search' });
  await search.fill(orgId);
  const results = page.getByRole('table', { name: 'Customers' });
  await expect(results.getByRole('row')).toHaveCount(2);
  await results.getByRole('row').nth(1).getByRole('button').first().click();
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  await expect(page.getByText(orgId, { exact: true })).toBeVisible();
}

/** Edit → change fields → reason → Review changes; leaves the review dialog open. */
export async function editAndReview(page: Page, fields: Record<string, string>, reason: string): Promise<void> {
  await page.getByRole('button', { name: 'Edit customer' }).click();
  for (const [label, value] of Object.entries(fields)) await page.getByLabel(label, { exact: false }).first().fill(value);
  await page.getByLabel('Reason for this change').fill(reason);
  await page.getByRole('button', { name: 'Review changes' }).click();
  await expect(page.getByRole('dialog', { name: 'Review changes' })).toBeVisible();
}

/** Audit events of one customer, from the database. */
export async function auditOf(stack: Stack, orgId: string) {
  const { rows } = await stack.db.query<{
    actor_sub: string;
    action: string;
    changes: { field: string; before: unknown; after: unknown }[];
    reason: string;
    app_version: string | null;
  }>(
    `SELECT actor_sub, action, changes, reason, app_version FROM audit.events WHERE entity_id = $1 ORDER BY id`,
    [orgId],
  );
  return rows;
}
