import keytar from 'keytar';
import { expect, test } from '../support/fixtures';
import { customerOf, openCustomer } from './support';

test('after the inactivity timeout the console locks; a half-typed edit survives unlocking and saves', async ({ openConsole, stack }) => {
  const customer = await customerOf(stack, 'alice');
  // 15 s: the console reports activity at most every 5 s, so it cannot lock while the test is typing.
  const app = await openConsole({ inactivityTimeoutMinutes: 0.25 });
  await app.signIn(stack.account('alice'));
  const { page } = app;
  await openCustomer(page, customer.orgId);
  await page.getByRole('button', { name: 'Edit customer' }).click();
  await page.getByLabel('Contact name').fill('Katherine Johnson');

  // Fifteen seconds without activity: locked, the form still underneath.
  const lock = page.getByRole('dialog', { name: 'Console locked' });
  await expect(lock).toBeVisible({ timeout: 30_000 });
  await app.screenshot('10-locked');

  await app.signIn(stack.account('alice'));
  await expect(lock).toBeHidden();
  await expect(page.getByLabel('Contact name')).toHaveValue('Katherine Johnson');
  await page.getByLabel('Reason for this change').fill('Contact changed roles');
  await page.getByRole('button', { name: 'Review changes' }).click();
  await page.getByRole('dialog', { name: 'Review changes' }).getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByRole('table', { name: 'Record history' })).toContainText('Katherine Johnson');
  const { rows } = await stack.db.query(`SELECT contact_name FROM core.customers WHERE org_id = $1`, [customer.orgId]);
  expect(rows[0]!.contact_name).toBe('Katherine Johnson');
});

test('a restart restores the session from the keychain; sign-out removes it and a restart asks to sign in', async ({ openConsole, stack }) => {
  const service = `CIMS Console e2e restart ${process.pid}`;
  // Surviving a restart is the rotation binding's; with DPoP (the default) a restart signs in again (16-dpop.spec.ts).
  const rotation = { keychainService: service, tokenBinding: 'rotation' } as const;
  try {
    const first = await openConsole(rotation);
    await first.signIn(stack.account('alice'));
    expect((await keytar.findCredentials(service)).length).toBeGreaterThan(0);
    await first.close();

    // Restart: the stored refresh token signs Alice in without the browser.
    const second = await openConsole(rotation);
    await second.waitForStatus('signedIn');
    await expect(second.page.getByRole('heading', { name: /portfolio/i })).toBeVisible();

    await second.page.getByRole('button', { name: /^Account:/ }).click();
    await second.page.getByRole('menuitem', { name: 'Sign out' }).click();
    await second.waitForStatus('signedOut');
    expect(await keytar.findCredentials(service)).toEqual([]);
    await second.close();

    const third = await openConsole(rotation);
    await expect(third.page.getByRole('button', { name: /sign in/i }).first()).toBeVisible();
    await third.waitForStatus('signedOut');
  } finally {
    for (const c of await keytar.findCredentials(service)) await keytar.deletePassword(service, c.account);
  }
});
