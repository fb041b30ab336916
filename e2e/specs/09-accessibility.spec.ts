import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { expect, test } from '../support/fixtures';
import { customerOf, goTo, openCustomer } from './support';

async function seriousViolations(page: Page) {
  const result = await new AxeBuilder({ page }).analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
}

test('axe finds no serious or critical violation on the main screens', async ({ openConsole, stack }) => {
  const customer = await customerOf(stack, 'alice');
  const crm = await openConsole();
  const page = crm.page;
  await expect(page.getByRole('button', { name: /sign in/i }).first()).toBeVisible();
  expect(await seriousViolations(page), 'sign-in').toEqual([]);

  await crm.signIn(stack.account('alice'));
  await expect(page.getByRole('heading', { name: /portfolio/i })).toBeVisible();
  await expect(page.getByRole('table').first().getByRole('row').nth(1)).toBeVisible();
  expect(await seriousViolations(page), 'portfolio').toEqual([]);

  await goTo(page, 'Customers');
  await expect(page.getByRole('table', { name: 'Customers' }).getByRole('row').nth(1)).toBeVisible();
  expect(await seriousViolations(page), 'customers').toEqual([]);

  await openCustomer(page, customer.orgId);
  await expect(page.getByRole('table', { name: 'Record history' }).or(page.getByText('No recorded changes.'))).toBeVisible();
  expect(await seriousViolations(page), 'customer').toEqual([]);

  await page.getByRole('button', { name: 'Edit customer' }).click();
  await expect(page.getByLabel('Reason for this change')).toBeVisible();
  expect(await seriousViolations(page), 'edit').toEqual([]);

  const lead = await openConsole();
  await lead.signIn(stack.account('bob'));
  await goTo(lead.page, 'Audit review');
  await expect(lead.page.getByRole('table', { name: 'Audit events, newest first' })).toBeVisible();
  expect(await seriousViolations(lead.page), 'audit review').toEqual([]);
});
