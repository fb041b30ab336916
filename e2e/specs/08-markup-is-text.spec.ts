import { expect, test } from '../support/fixtures';
import { openCustomer } from './support';

test('a customer named with an HTML/script payload shows the text literally and nothing runs', async ({ openConsole, stack }) => {
  const payload = '<img src=x onerror="window.__pwned=1">';
  const app = await openConsole();
  await app.signIn(stack.account('alice'));
  const { page } = app;
  const orgId = `ORG-9${String(Date.now()).slice(-5)}`;

  // Created through the console's own bridge, as the New customer form would.
  const created = await page.evaluate(
    async ({ orgId, payload }) => {
      const bridge = (window as unknown as { cims: import('../../shared/ipc').CimsBridge }).cims;
      return bridge.invoke('customers:create', {
        customer: {
          orgId,
          orgName: payload,
          contactName: '<script>window.__pwned=2</script>',
          contactEmail: 'xss@example.com',
          contactPhone: '+1 555 0100',
          userCount: 1,
          contractValueCents: 100,
          currency: 'USD',
          renewalDate: '2027-01-01',
        },
        reason: 'Security test customer',
      });
    },
    { orgId, payload },
  );
  expect(created.ok).toBe(true);

  await openCustomer(page, orgId);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(payload);
  await expect(page.getByText('<script>window.__pwned=2</script>').first()).toBeVisible();
  expect(await page.locator('img[src="x"]').count()).toBe(0);
  expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  await app.screenshot('12-markup-as-text');
});
