import { APP_VERSION, expect, test } from '../support/fixtures';
import { auditOf, customerOf, editAndReview, openCustomer } from './support';

test('Alice finds a customer, reads the record, changes the contact email with a reason, and sees it in the history', async ({ openConsole, stack }) => {
  const customer = await customerOf(stack, 'alice');
  const app = await openConsole();
  await app.signIn(stack.account('alice'));
  const { page } = app;

  await openCustomer(page, customer.orgId);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(customer.orgName);

  // Billing is masked: brand, last four and expiry, never more.
  const billing = page.getByRole('region', { name: 'Billing' });
  await expect(billing).toContainText(/•+\s*\d{4}|\*{2,}\s*\d{4}|ending\s+\d{4}/i);
  await expect(billing).not.toContainText(/\d{12,}/);
  await expect(page.getByRole('region', { name: 'Usage' })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Predictions' })).toContainText(/churn/i);
  await app.screenshot('03-customer');

  // Base 36, so no run of 13 digits that may pass the Luhn check (the API refuses those as card numbers).
  const newEmail = `billing.${Date.now().toString(36)}@example.org`;
  await editAndReview(page, { 'Contact email': newEmail }, 'Customer asked to route mail to billing');
  const review = page.getByRole('dialog', { name: 'Review changes' });
  const changeRow = review.getByRole('table', { name: 'Changes to save' }).getByRole('row').nth(1);
  await expect(changeRow).toContainText('Contact email');
  await expect(changeRow).toContainText(customer.contactEmail);
  await expect(changeRow).toContainText(newEmail);
  await app.screenshot('04-review-changes');
  await review.getByRole('button', { name: 'Save changes' }).click();

  // Back on the record: the history shows who changed what from what to what, and why.
  const history = page.getByRole('table', { name: 'Record history' });
  const latest = history.getByRole('row').nth(1);
  await expect(latest).toContainText('Alice');
  await expect(latest).toContainText(customer.contactEmail);
  await expect(latest).toContainText(newEmail);
  await expect(latest).toContainText('Customer asked to route mail to billing');
  await app.screenshot('05-customer-after-edit');

  // And the database holds exactly that one audited change.
  const events = (await auditOf(stack, customer.orgId)).filter((e) => e.reason === 'Customer asked to route mail to billing');
  expect(events).toHaveLength(1);
  expect(events[0]).toMatchObject({ actor_sub: 'alice', action: 'customer.update', app_version: APP_VERSION });
  expect(events[0]!.changes).toEqual([{ field: 'contactEmail', before: customer.contactEmail, after: newEmail }]);
});
