import { expect, test } from '../support/fixtures';
import { auditOf, customerOf, openCustomer } from './support';

test('Carol cannot edit Alice\'s customer: no edit button, and a forced call through the bridge is refused by the API', async ({ openConsole, stack }) => {
  const customer = await customerOf(stack, 'alice');
  const app = await openConsole();
  await app.signIn(stack.account('carol'));
  await openCustomer(app.page, customer.orgId);
  await expect(app.page.getByRole('heading', { level: 1 })).toHaveText(customer.orgName);
  await expect(app.page.getByRole('button', { name: 'Edit customer' })).toHaveCount(0);

  const eventsBefore = (await auditOf(stack, customer.orgId)).length;
  const forced = await app.page.evaluate(async (orgId) => {
    const bridge = (window as unknown as { cims: import('../../shared/ipc').CimsBridge }).cims;
    const detail = await bridge.invoke('customers:get', { orgId });
    if (!detail.ok) return { step: 'get', result: detail };
    const result = await bridge.invoke('customers:update', {
      orgId,
      version: detail.data.customer.version,
      changes: { contactName: 'Mallory' },
      reason: 'Trying to edit someone else\'s customer',
    });
    return { step: 'update', result };
  }, customer.orgId);
  expect(forced.step).toBe('update');
  expect(forced.result).toMatchObject({ ok: false, error: { code: 'forbidden', status: 403 } });

  const { rows } = await stack.db.query(`SELECT contact_name FROM core.customers WHERE org_id = $1`, [customer.orgId]);
  expect(rows[0]!.contact_name).not.toBe('Mallory');
  expect(await auditOf(stack, customer.orgId)).toHaveLength(eventsBefore);
});
