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
  // A contact field: no approval rule names it, so the save applies at once.
  await editAndReview(page, { 'Contact name': 'Ivy Offline' }, 'New main contact');

  await stack.relay.down();
  try {
    await page.getByRole('dialog', { name: 'Review changes' }).getByRole('button', { name: 'Save changes' }).click();
    await expect(page.getByRole('alert', { name: 'The CIMS service cannot be reached' })).toBeVisible();
    await expect(page.getByRole('alert', { name: 'Not saved yet: your changes are kept' })).toBeVisible();
    await expect(page.getByLabel('Contact name')).toHaveValue('Ivy Offline');
    await app.screenshot('11-api-down');
  } finally {
    await stack.relay.up();
  }

  await page.getByRole('button', { name: 'Review and save again' }).click();
  await page.getByRole('dialog', { name: 'Review changes' }).getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByRole('table', { name: 'Record history' })).toContainText('changed to Ivy Offline');
  await expect(page.getByRole('alert', { name: 'The CIMS service cannot be reached' })).toBeHidden();
  const { rows } = await stack.db.query(`SELECT contact_name FROM core.customers WHERE org_id = $1`, [orgId]);
  expect(rows[0]!.contact_name).toBe('Ivy Offline');
});
