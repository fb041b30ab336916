import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { expect, test, type Stack } from '../support/fixtures';
import { auditOf, openCustomer } from './support';

/** An active customer of alice's with no change request waiting, the `skip`-th by org id (other specs take the first few). */
async function quietCustomerOfAlice(stack: Stack, skip: number): Promise<{ orgId: string; contractValueCents: number; contactPhone: string }> {
  const { rows } = await stack.db.query<{ org_id: string; contract_value_cents: string; contact_phone: string }>(
    `SELECT c.org_id, c.contract_value_cents, c.contact_phone FROM core.customers c
      WHERE c.owner_sub = 'alice' AND c.status = 'active'
        AND NOT EXISTS (SELECT 1 FROM core.change_requests r WHERE r.org_id = c.org_id)
      ORDER BY c.org_id OFFSET $1 LIMIT 1`,
    [skip],
  );
  const row = rows[0];
  if (!row) throw new Error('no quiet customer of alice');
  return { orgId: row.org_id, contractValueCents: Number(row.contract_value_cents), contactPhone: row.contact_phone };
}

const row = (stack: Stack, orgId: string) =>
  stack.db
    .query<{ contract_value_cents: string; contact_phone: string; contact_email: string; version: number }>(
      'SELECT contract_value_cents, contact_phone, contact_email, version FROM core.customers WHERE org_id = $1',
      [orgId],
    )
    .then((r) => r.rows[0]!);

async function seriousViolations(page: Page) {
  const result = await new AxeBuilder({ page }).analyze();
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(' | ')}`);
}

/** In the Approvals screen: the queue's entry for this customer. */
const queueEntry = (page: Page, orgName: string) => page.getByRole('navigation', { name: 'Change requests, newest first' }).getByRole('button', { name: new RegExp(orgName) });

async function orgNameOf(stack: Stack, orgId: string): Promise<string> {
  const { rows } = await stack.db.query<{ org_name: string }>('SELECT org_name FROM core.customers WHERE org_id = $1', [orgId]);
  return rows[0]!.org_name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

test('four eyes: a contract value and a phone in one edit wait for a support lead, who approves them from Approvals; the history names both', async ({ openConsole, stack }) => {
  const customer = await quietCustomerOfAlice(stack, 4);
  const name = await orgNameOf(stack, customer.orgId);
  const before = await row(stack, customer.orgId);
  const eventsBefore = (await auditOf(stack, customer.orgId)).length;

  const crm = await openConsole();
  await crm.signIn(stack.account('alice'));
  await openCustomer(crm.page, customer.orgId);
  await crm.page.getByRole('button', { name: 'Edit customer' }).click();
  await expect(crm.page.getByRole('textbox', { name: /Contract value/ })).toHaveAccessibleDescription(/Needs a support lead’s approval/);
  await crm.page.getByRole('textbox', { name: /Contract value/ }).fill('123456.00');
  await crm.page.getByLabel('Contact phone').fill('+44 20 7946 0111');
  await crm.page.getByLabel('Reason for this change').fill('Renewal signed at the enterprise tier');
  await crm.page.getByRole('button', { name: 'Review changes' }).click();
  const review = crm.page.getByRole('dialog', { name: 'Review changes' });
  await expect(review.getByText('This change is sent for approval')).toBeVisible();
  await review.getByRole('button', { name: 'Send for approval' }).click();
  await expect(crm.page.getByText('Sent for approval').first()).toBeVisible();

  // The record is unchanged and shows the pending request.
  const banner = crm.page.getByRole('status', { name: /A change waits for approval/ });
  await expect(banner).toContainText('+44 20 7946 0111');
  await expect(crm.page.getByRole('region', { name: 'Contact' })).toContainText(customer.contactPhone);
  expect(await row(stack, customer.orgId)).toEqual(before);
  await crm.screenshot('20-record-pending-change');

  // The maker has no Approvals screen, and a forced approval through the bridge is refused by the API.
  await expect(crm.page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: /Approvals/ })).toHaveCount(0);
  const { rows: requests } = await stack.db.query<{ id: string }>(`SELECT id::text FROM core.change_requests WHERE org_id = $1 AND status = 'pending'`, [customer.orgId]);
  const requestId = requests[0]!.id;
  const forced = await crm.page.evaluate(
    (id) => (window as unknown as { cims: import('../../shared/ipc').CimsBridge }).cims.invoke('approvals:approve', { id, version: 1, reason: 'Approving my own change' }),
    requestId,
  );
  expect(forced).toMatchObject({ ok: false, error: { code: 'forbidden', status: 403 } });
  expect(await row(stack, customer.orgId)).toEqual(before);
  expect((await auditOf(stack, customer.orgId)).map((e) => e.action).slice(eventsBefore)).toEqual(['change.requested']);

  // The support lead approves it from the queue.
  const lead = await openConsole();
  await lead.signIn(stack.account('bob'));
  await lead.page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: /Approvals/ }).click();
  await queueEntry(lead.page, name).click();
  const detail = lead.page.getByRole('region', { name: `Change request ${requestId}` });
  await expect(detail.getByRole('table', { name: 'Requested changes beside the current record' })).toContainText('+44 20 7946 0111');
  await expect(detail.getByText('Churn risk:')).toBeVisible();
  expect(await seriousViolations(lead.page), 'approvals').toEqual([]);
  await lead.screenshot('21-approvals');
  await detail.getByLabel(/Reason for your decision/).fill('Order form checked with finance');
  await detail.getByRole('button', { name: 'Approve and apply' }).click();
  await expect(lead.page.getByText(/is applied/).first()).toBeVisible();

  const after = await row(stack, customer.orgId);
  expect(after).toMatchObject({ contract_value_cents: '12345600', contact_phone: '+44 20 7946 0111', version: before.version + 1 });
  const applied = (await auditOf(stack, customer.orgId)).at(-1)!;
  expect(applied).toMatchObject({ actor_sub: 'bob', action: 'customer.update', reason: 'Renewal signed at the enterprise tier' });
  const { rows: detailRows } = await stack.db.query<{ detail: unknown }>(`SELECT detail FROM audit.events WHERE entity_id = $1 ORDER BY id DESC LIMIT 1`, [customer.orgId]);
  expect(detailRows[0]!.detail).toMatchObject({ changeRequestId: requestId, maker: { sub: 'alice' }, checker: { sub: 'bob' } });

  // The maker sees the outcome when the record loads again, and the history names both people.
  await openCustomer(crm.page, customer.orgId);
  await expect(crm.page.getByRole('status', { name: /Your change request #\d+: approved/ })).toBeVisible();
  const history = crm.page.getByRole('table', { name: 'Record history' });
  await expect(history).toContainText(/asked by .+, approved by .+/);
  await expect(history).toContainText(`change request #${requestId}`);
  await expect(crm.page.getByRole('region', { name: 'Contact' })).toContainText('+44 20 7946 0111');
});

test('stale: a change lands before the approval, which then applies nothing; the maker sends it again on top and it is approved', async ({ openConsole, stack }) => {
  const customer = await quietCustomerOfAlice(stack, 5);
  const name = await orgNameOf(stack, customer.orgId);
  const crm = await openConsole();
  await crm.signIn(stack.account('alice'));
  await openCustomer(crm.page, customer.orgId);
  await crm.page.getByRole('button', { name: 'Edit customer' }).click();
  await crm.page.getByLabel('Users').fill('777');
  await crm.page.getByLabel('Reason for this change').fill('Customer added seats');
  await crm.page.getByRole('button', { name: 'Review changes' }).click();
  await crm.page.getByRole('dialog', { name: 'Review changes' }).getByRole('button', { name: 'Send for approval' }).click();
  await expect(crm.page.getByRole('status', { name: /A change waits for approval/ })).toBeVisible();

  // Another change of the record lands first (a field no rule names applies at once).
  await crm.page.getByRole('button', { name: 'Edit customer' }).click();
  await crm.page.getByLabel('Contact email').fill('first.in@example.com');
  await crm.page.getByLabel('Reason for this change').fill('New contact address');
  await crm.page.getByRole('button', { name: 'Review changes' }).click();
  await crm.page.getByRole('dialog', { name: 'Review changes' }).getByRole('button', { name: 'Save changes' }).click();
  await expect(crm.page.getByRole('region', { name: 'Contact' })).toContainText('first.in@example.com');
  const moved = await row(stack, customer.orgId);

  const lead = await openConsole();
  await lead.signIn(stack.account('bob'));
  await lead.page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: /Approvals/ }).click();
  await queueEntry(lead.page, name).click();
  await expect(lead.page.getByText('The customer changed since this request was made')).toBeVisible();
  await lead.page.getByLabel(/Reason for your decision/).fill('Seats confirmed');
  await lead.page.getByRole('button', { name: 'Approve and apply' }).click();
  await expect(lead.page.getByText('Not applied: the request is stale')).toBeVisible();
  expect(await row(stack, customer.orgId)).toEqual(moved);
  expect((await auditOf(stack, customer.orgId)).at(-1)).toMatchObject({ actor_sub: 'bob', action: 'change.stale' });

  // The maker is offered to send it again on top of the current record.
  await openCustomer(crm.page, customer.orgId);
  const stale = crm.page.getByRole('status', { name: /Your change request #\d+: stale/ });
  await crm.screenshot('22-record-stale-change');
  await stale.getByRole('button', { name: 'Send again on top of the current record' }).click();
  await expect(crm.page.getByRole('status', { name: /A change waits for approval/ })).toBeVisible();
  const { rows } = await stack.db.query<{ base_version: number }>(`SELECT base_version FROM core.change_requests WHERE org_id = $1 AND status = 'pending'`, [customer.orgId]);
  expect(rows[0]!.base_version).toBe(moved.version);

  // Opening Approvals again loads the queue again.
  await lead.page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Customers' }).click();
  await lead.page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: /Approvals/ }).click();
  await queueEntry(lead.page, name).click();
  await lead.page.getByLabel(/Reason for your decision/).fill('Seats confirmed');
  await lead.page.getByRole('button', { name: 'Approve and apply' }).click();
  await expect(lead.page.getByText(/is applied/).first()).toBeVisible();
  const { rows: seats } = await stack.db.query<{ user_count: number; contact_email: string }>('SELECT user_count, contact_email FROM core.customers WHERE org_id = $1', [customer.orgId]);
  expect(seats[0]).toEqual({ user_count: 777, contact_email: 'first.in@example.com' });
});

test('archiving by the owning CRM goes through a change request that a support lead approves', async ({ openConsole, stack }) => {
  const customer = await quietCustomerOfAlice(stack, 6);
  const name = await orgNameOf(stack, customer.orgId);
  const crm = await openConsole();
  await crm.signIn(stack.account('alice'));
  await openCustomer(crm.page, customer.orgId);
  await crm.page.getByRole('button', { name: 'Archive…' }).click();
  const dialog = crm.page.getByRole('dialog', { name: /Archive/ });
  await dialog.getByRole('textbox', { name: /Reason/ }).fill('The customer closed their account');
  expect(await seriousViolations(crm.page), 'archive dialog').toEqual([]);
  await dialog.getByRole('button', { name: 'Send for approval' }).click();
  await expect(crm.page.getByRole('status', { name: /A change waits for approval/ })).toContainText('Asked to archive this customer');
  expect((await stack.db.query(`SELECT status FROM core.customers WHERE org_id = $1`, [customer.orgId])).rows[0]).toEqual({ status: 'active' });

  const lead = await openConsole();
  await lead.signIn(stack.account('bob'));
  await lead.page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: /Approvals/ }).click();
  await queueEntry(lead.page, name).click();
  await lead.page.getByLabel(/Reason for your decision/).fill('Confirmed with finance');
  await lead.page.getByRole('button', { name: 'Approve and apply' }).click();
  await expect(lead.page.getByText(/is applied/).first()).toBeVisible();
  expect((await stack.db.query(`SELECT status FROM core.customers WHERE org_id = $1`, [customer.orgId])).rows[0]).toEqual({ status: 'archived' });
  expect((await auditOf(stack, customer.orgId)).at(-1)).toMatchObject({ actor_sub: 'bob', action: 'customer.archive' });
});

test('un-archive: the owning CRM asks to bring back an archived customer with a reason, a support lead approves from Approvals; active again, the history names both', async ({ openConsole, stack }) => {
  const customer = await quietCustomerOfAlice(stack, 8);
  const name = await orgNameOf(stack, customer.orgId);
  const crm = await openConsole();
  await crm.signIn(stack.account('alice'));
  await openCustomer(crm.page, customer.orgId);
  // Archived first, the same four-eyes way (archiving itself is the test above).
  await crm.page.getByRole('button', { name: 'Archive…' }).click();
  const archiveDialog = crm.page.getByRole('dialog', { name: /Archive/ });
  await archiveDialog.getByRole('textbox', { name: /Reason/ }).fill('The customer closed their account');
  await archiveDialog.getByRole('button', { name: 'Send for approval' }).click();
  await expect(crm.page.getByRole('status', { name: /A change waits for approval/ })).toBeVisible();

  const lead = await openConsole();
  await lead.signIn(stack.account('bob'));
  const approveFromQueue = async (reason: string) => {
    await lead.page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: /Approvals/ }).click();
    await queueEntry(lead.page, name).click();
    await lead.page.getByLabel(/Reason for your decision/).fill(reason);
    await lead.page.getByRole('button', { name: 'Approve and apply' }).click();
    await expect(lead.page.getByText(/is applied/).first()).toBeVisible();
  };
  await approveFromQueue('Closure confirmed with finance');
  expect((await stack.db.query(`SELECT status FROM core.customers WHERE org_id = $1`, [customer.orgId])).rows[0]).toEqual({ status: 'archived' });

  // The open record hears the change: archived now, with the button to bring it back.
  const bringBack = crm.page.getByRole('button', { name: 'Bring back…' });
  await expect(bringBack).toBeVisible();
  await bringBack.click();
  const dialog = crm.page.getByRole('dialog', { name: /Bring .+ back/ });
  await expect(dialog.getByRole('button', { name: 'Send for approval' })).toBeVisible();
  // The reason is required: nothing is sent without one.
  await dialog.getByRole('button', { name: 'Send for approval' }).click();
  await expect(dialog).toBeVisible();
  await dialog.getByRole('textbox', { name: /Reason/ }).fill('They renewed after all (order form 2026-131)');
  expect(await seriousViolations(crm.page), 'bring back dialog').toEqual([]);
  await dialog.getByRole('button', { name: 'Send for approval' }).click();
  await expect(crm.page.getByRole('status', { name: /A change waits for approval/ })).toContainText('Asked to bring this customer back');
  expect((await stack.db.query(`SELECT status FROM core.customers WHERE org_id = $1`, [customer.orgId])).rows[0]).toEqual({ status: 'archived' });
  const { rows: requests } = await stack.db.query<{ id: string }>(
    `SELECT id::text FROM core.change_requests WHERE org_id = $1 AND kind = 'unarchive' AND status = 'pending'`,
    [customer.orgId],
  );
  const requestId = requests[0]!.id;

  await approveFromQueue('Renewal order form checked');
  expect((await stack.db.query(`SELECT status FROM core.customers WHERE org_id = $1`, [customer.orgId])).rows[0]).toEqual({ status: 'active' });
  const applied = (await auditOf(stack, customer.orgId)).at(-1)!;
  expect(applied).toMatchObject({ actor_sub: 'bob', action: 'customer.unarchive', reason: 'They renewed after all (order form 2026-131)' });
  const { rows: detailRows } = await stack.db.query<{ detail: unknown }>(`SELECT detail FROM audit.events WHERE entity_id = $1 ORDER BY id DESC LIMIT 1`, [customer.orgId]);
  expect(detailRows[0]!.detail).toMatchObject({ changeRequestId: requestId, kind: 'unarchive', maker: { sub: 'alice' }, checker: { sub: 'bob' } });

  // Active again for the maker: found by the default search, the outcome on the record, the history naming both.
  await openCustomer(crm.page, customer.orgId);
  await expect(crm.page.getByRole('status', { name: /Your change request #\d+: approved/ })).toBeVisible();
  await expect(crm.page.getByRole('button', { name: 'Archive…' })).toBeVisible();
  const history = crm.page.getByRole('table', { name: 'Record history' });
  await expect(history).toContainText(/asked by .+, approved by .+/);
  await expect(history).toContainText(`change request #${requestId}`);
  await crm.screenshot('23-record-brought-back');
});
