import { expect, test } from '../support/fixtures';
import { editAndReview, openCustomer } from './support';

test('the API goes away mid-edit: a banner, the draft kept; when it is back the save goes through', async ({ openConsole, stack }) => {
  const { rows: picked } = await stack.db.query<{ org_id: string }>(
    `SELECT org_id FROM core.customers WHERE owner_sub = 'alice' AND status = 'active' ORDER BY org_id OFFSET 2 LIMIT 1`,
  );
  const orgId = picked[0]!.org_id;
  const app = await openConsole();
  await app.signIn(stack.account('alice'));
  const { page } = app;
  await openCustomer(page, orgId);
  await editAndReview(page, { 'Users': '4321' }, 'Customer bought more seats');

  await stack.relay.down();
  try {
    await page.getByRole('dialog', { name: 'Review changes' }).getByRole('button', { name: 'Save changes' }).click();
    await expect(page.getByRole('alert', { name: 'The CIMS service cannot be reached' })).toBeVisible();
    await expect(page.getByRole('alert', { name: 'Not saved yet: your changes are kept' })).toBeVisible();
    await expect(page.getByLabel('Users')).toHaveValue('4321');
    await app.screenshot('11-api-down');
  } finally {
    await stack.relay.up();
  }

  await page.getByRole('button', { name: 'Review and save again' }).click();
  await page.getByRole('dialog', { name: 'Review changes' }).getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByRole('table', { name: 'Record history' })).toContainText('changed to 4321');
  await expect(page.getByRole('alert', { name: 'The CIMS service cannot be reached' })).toBeHidden();
  const { rows } = await stack.db.query(`SELECT user_count FROM core.customers WHERE org_id = $1`, [orgId]);
  expect(rows[0]!.user_count).toBe(4321);
});
