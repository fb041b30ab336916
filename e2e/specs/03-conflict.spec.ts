import { expect, test } from '../support/fixtures';
import { auditOf, editAndReview, openCustomer } from './support';

test('two consoles edit the same customer: the second sees what changed and re-applies without retyping', async ({ openConsole, stack }) => {
  const { rows } = await stack.db.query<{ org_id: string }>(
    `SELECT org_id FROM core.customers WHERE owner_sub = 'alice' AND status = 'active' ORDER BY org_id OFFSET 1 LIMIT 1`,
  );
  const orgId = rows[0]!.org_id;
  const first = await openConsole();
  await first.signIn(stack.account('alice'));
  const second = await openConsole();
  await second.signIn(stack.account('alice'));
  await openCustomer(first.page, orgId);
  await openCustomer(second.page, orgId);

  // Both start editing the same version.
  await editAndReview(first.page, { 'Contact name': 'Grace Hopper' }, 'New main contact after reorganisation');
  await editAndReview(second.page, { 'Contact phone': '+44 20 7946 0958' }, 'Phone number changed');

  await first.page.getByRole('dialog', { name: 'Review changes' }).getByRole('button', { name: 'Save changes' }).click();
  await expect(first.page.getByRole('table', { name: 'Record history' })).toContainText('Grace Hopper');

  await second.page.getByRole('dialog', { name: 'Review changes' }).getByRole('button', { name: 'Save changes' }).click();
  const conflict = second.page.getByRole('alert').filter({ hasText: 'Someone else changed this customer while you were editing' });
  await expect(conflict).toBeVisible();
  await expect(conflict.getByRole('list', { name: 'Changes by someone else' })).toContainText('Grace Hopper');
  await second.screenshot('06-conflict');

  await conflict.getByRole('button', { name: 'Re-apply my changes on top' }).click();
  const review = second.page.getByRole('dialog', { name: 'Review changes' });
  await expect(review.getByRole('table', { name: 'Changes to save' })).toContainText('+44 20 7946 0958');
  await expect(review.getByRole('table', { name: 'Changes to save' })).not.toContainText('Grace Hopper');
  await review.getByRole('button', { name: 'Save changes' }).click();
  await expect(second.page.getByRole('table', { name: 'Record history' })).toContainText('+44 20 7946 0958');

  // Nothing lost: both changes are in the record and in the audit trail.
  const { rows: after } = await stack.db.query(`SELECT contact_name, contact_phone FROM core.customers WHERE org_id = $1`, [orgId]);
  expect(after[0]).toEqual({ contact_name: 'Grace Hopper', contact_phone: '+44 20 7946 0958' });
  const fields = (await auditOf(stack, orgId)).filter((e) => e.action === 'customer.update').flatMap((e) => e.changes.map((c) => c.field));
  expect(fields).toEqual(expect.arrayContaining(['contactName', 'contactPhone']));
});
