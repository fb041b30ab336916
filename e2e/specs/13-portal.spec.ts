// A customer's contact uses the demo portal: signs in on the provider's page,
// changes the organization's phone, and replaces the card through the demo's
// stand-in for the payment processor. The CRM who owns the customer then sees
// the new phone, a history row naming the contact, and only the new card's
// brand and last four. Nothing card-like reaches the API, its log or the database.
import { readFileSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { expect, test } from '../support/fixtures';
import { LOGIN_FORM } from '../../testing/sign-in';
import { openCustomer } from './support';

const TEST_CARD = '5555 5555 5555 4444';
/** Screenshots for people to look at, when asked for (not committed). */
const SHOTS = process.env.PORTAL_SHOTS_DIR;

async function seriousViolations(page: Page) {
  const result = await new AxeBuilder({ page }).analyze();
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => ({ id: v.id, targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
}

async function shot(page: Page, name: string) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.screenshot({ path: `${SHOTS}/${name}-${scheme}.png`, fullPage: true });
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

test('a customer updates their phone and replaces their card in the portal; the CRM sees both, attributed to the customer', async ({ browser, openConsole, stack }) => {
  const contact = stack.info.customerAccounts?.find((a) => a.username === 'dana');
  expect(stack.info.portal, 'the stack serves the demo portal').toBeTruthy();
  expect(contact).toBeTruthy();
  const { rows } = await stack.db.query<{ owner_sub: string; contact_phone: string }>('SELECT owner_sub, contact_phone FROM core.customers WHERE org_id = $1', [contact!.orgId]);
  const owner = rows[0]!.owner_sub;

  // The customer, in their own browser.
  const context = await browser.newContext();
  const portal = await context.newPage();
  await portal.goto(stack.info.portal!);
  await expect(portal.getByRole('link', { name: 'Sign in' })).toBeVisible();
  await shot(portal, 'portal-1-sign-in');
  expect(await seriousViolations(portal), 'sign-in page').toEqual([]);
  await portal.getByRole('link', { name: 'Sign in' }).click();
  await expect(portal).toHaveURL(new RegExp(`^${stack.info.issuer}/interaction/`));
  await portal.fill(LOGIN_FORM.username, contact!.username);
  await portal.fill(LOGIN_FORM.password, contact!.password);
  await portal.click(LOGIN_FORM.submit);
  await expect(portal.getByRole('heading', { level: 1 })).toContainText(contact!.orgId);
  expect(await seriousViolations(portal), 'organization page').toEqual([]);

  const newPhone = `+44 20 7946 ${String(Date.now() % 10_000).padStart(4, '0')}`;
  await portal.getByLabel('Contact phone').fill(newPhone);
  await portal.getByRole('button', { name: 'Save contact' }).click();
  await expect(portal.getByRole('status')).toHaveText('Your contact details were saved.');
  await expect(portal.getByLabel('Contact phone')).toHaveValue(newPhone);
  await shot(portal, 'portal-2-saved');

  // The card, through the stand-in processor: the number stays in the browser.
  const sent: string[] = [];
  portal.on('request', (r) => sent.push(`${r.url()} ${r.postData() ?? ''}`));
  await portal.getByRole('link', { name: /Replace card|Add a card/ }).click();
  await expect(portal.getByText('Demo stand-in for the payment processor')).toBeVisible();
  expect(await seriousViolations(portal), 'card page').toEqual([]);
  await portal.getByLabel('Card number').fill('4111 1111 1111 1112');
  await portal.getByLabel('Expiry (MM/YY)').fill('12/31');
  await portal.getByLabel('Security code').fill('123');
  await portal.getByRole('button', { name: 'Use this card' }).click();
  await expect(portal.getByText('Enter a valid card number.')).toBeVisible();
  await shot(portal, 'portal-3-card-error');
  await portal.getByLabel('Card number').fill(TEST_CARD);
  await portal.getByRole('button', { name: 'Use this card' }).click();
  await expect(portal.getByRole('status')).toHaveText('Your card was replaced.');
  await expect(portal.locator('#card-on-file')).toHaveText('Mastercard ending 4444, expires 12/2031');
  await shot(portal, 'portal-4-card-replaced');
  expect(sent.join('\n')).not.toMatch(/5555|4111/);
  await context.close();

  // What the database holds: the new card's token, brand and last four, and the contact's two events.
  const billing = await stack.db.query('SELECT brand, last4, exp_month, exp_year FROM core.billing_methods WHERE org_id = $1', [contact!.orgId]);
  expect(billing.rows).toEqual([{ brand: 'mastercard', last4: '4444', exp_month: 12, exp_year: 2031 }]);
  const events = await stack.db.query<{ actor_name: string; actor_roles: string[]; via: string }>(
    "SELECT actor_name, actor_roles, via FROM audit.events WHERE entity_id = $1 AND via = 'portal' ORDER BY id",
    [contact!.orgId],
  );
  expect(events.rows).toEqual([
    { actor_name: 'Dana Whitfield', actor_roles: ['customer'], via: 'portal' },
    { actor_name: 'Dana Whitfield', actor_roles: ['customer'], via: 'portal' },
  ]);
  const dump = (await stack.db.query("SELECT string_agg(t::text, ' ') AS all FROM (SELECT c::text AS t FROM core.customers c UNION ALL SELECT e::text FROM audit.events e UNION ALL SELECT b::text FROM core.billing_methods b) x")).rows[0].all as string;
  expect(dump.replace(/[ -]/g, '')).not.toContain('5555555555554444');
  expect(readFileSync(stack.info.apiLog, 'utf8').replace(/[ -]/g, '')).not.toContain('5555555555554444');

  // The CRM who owns the customer.
  const crm = await openConsole();
  await crm.signIn(stack.account(owner));
  await openCustomer(crm.page, contact!.orgId);
  await expect(crm.page.getByRole('region', { name: 'Contact' })).toContainText(newPhone);
  const billingRegion = crm.page.getByRole('region', { name: 'Billing' });
  await expect(billingRegion).toContainText('mastercard');
  await expect(billingRegion).toContainText('4444');
  await expect(billingRegion.getByRole('listitem')).toHaveCount(1);
  const history = crm.page.getByRole('table', { name: 'Record history' });
  await expect(history.getByRole('row').nth(1)).toContainText('Dana Whitfield');
  await expect(history.getByRole('row').nth(1)).toContainText('mastercard ending 4444');
  await expect(history.getByRole('row').nth(2)).toContainText('Dana Whitfield');
  await expect(history.getByRole('row').nth(2)).toContainText(newPhone);
  await expect(history.getByRole('row').nth(1)).toContainText('Customer, via the portal');
  await history.scrollIntoViewIfNeeded();
  await crm.screenshot('13-record-after-portal');
});
