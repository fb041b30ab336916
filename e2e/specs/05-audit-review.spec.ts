import { readFileSync } from 'node:fs';
import { expect, test } from '../support/fixtures';
import { customerOf, goTo, openCustomer } from './support';

test('Bob reviews the audit trail: filters by user and date, exports CSV, verifies integrity, and tampering is caught', async ({ openConsole, stack }) => {
  const app = await openConsole();
  await app.signIn(stack.account('bob'));
  const { page } = app;
  await goTo(page, 'Audit review');
  const events = page.getByRole('table', { name: 'Audit events, newest first' });
  await expect(events.getByRole('row').nth(1)).toBeVisible();

  // Filter: Alice's changes made today.
  const today = new Date().toISOString().slice(0, 10);
  const filters = page.getByRole('form', { name: 'Audit filters' });
  await filters.getByLabel('User').fill('alice');
  await filters.getByLabel('From', { exact: true }).fill(today);
  await filters.getByLabel('To', { exact: true }).fill(today);
  await filters.getByRole('button', { name: 'Apply filters' }).click();

  const { rows: expected } = await stack.db.query<{ n: string }>(
    `SELECT count(*) AS n FROM audit.events WHERE actor_sub = 'alice' AND occurred_at >= $1::date AND occurred_at < $1::date + 1`,
    [today],
  );
  const count = Number(expected[0]!.n);
  expect(count).toBeGreaterThan(0);
  await expect(events.getByRole('row')).toHaveCount(count + 1);
  for (const who of await events.getByRole('row').filter({ hasNot: page.getByRole('columnheader') }).allInnerTexts()) {
    expect(who).toContain('Alice');
  }
  await app.screenshot('07-audit-review');

  // Export the current filter: the file has a header and exactly those events.
  await page.getByRole('button', { name: 'Export CSV' }).click();
  const done = page.getByText(/events written to /);
  await expect(done).toBeVisible();
  const path = (await done.innerText()).replace(/^.*events written to /, '').trim();
  const lines = readFileSync(path, 'utf8').trim().split(/\r?\n/);
  expect(lines[0]).toMatch(/actor/i);
  expect(lines).toHaveLength(count + 1);
  for (const line of lines.slice(1)) expect(line).toContain('alice');

  // Verify integrity: intact.
  await page.getByRole('button', { name: 'Verify integrity' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Audit trail intact' })).toBeVisible();
  await app.screenshot('08-verify-ok');
  await page.getByRole('button', { name: 'Dismiss' }).first().click();

  // A superuser alters one sealed event behind the API's back: verify names it.
  const { rows: target } = await stack.db.query<{ id: string; reason: string | null }>(
    `SELECT e.id, e.reason FROM audit.events e JOIN audit.chain c ON c.event_id = e.id ORDER BY c.seq LIMIT 1`,
  );
  const victim = target[0]!;
  await stack.db.query('ALTER TABLE audit.events DISABLE TRIGGER USER');
  try {
    await stack.db.query(`UPDATE audit.events SET reason = 'nothing to see here' WHERE id = $1`, [victim.id]);
    await page.getByRole('button', { name: 'Verify integrity' }).click();
    const damaged = page.getByRole('alert').filter({ hasText: 'Audit trail damaged' });
    await expect(damaged).toBeVisible();
    await expect(damaged).toContainText(`#${victim.id}`);
    await app.screenshot('09-verify-damaged');
  } finally {
    // Put the record back so later specs start from an intact trail.
    await stack.db.query(`UPDATE audit.events SET reason = $2 WHERE id = $1`, [victim.id, victim.reason]);
    await stack.db.query('ALTER TABLE audit.events ENABLE TRIGGER USER');
  }
});

test('After Carol opens a customer, Bob sees her in "Who viewed this record"', async ({ openConsole, stack }) => {
  const customer = await customerOf(stack, 'alice');
  const carol = await openConsole();
  await carol.signIn(stack.account('carol'));
  await openCustomer(carol.page, customer.orgId);
  await expect(carol.page.getByRole('heading', { level: 1 })).toHaveText(customer.orgName);
  // A CRM is not offered the access log.
  await expect(carol.page.getByRole('region', { name: 'Who viewed this record' })).toHaveCount(0);
  const { rows } = await stack.db.query<{ at: Date }>(
    `SELECT max(occurred_at) AS at FROM audit.access_events WHERE actor_sub = 'carol' AND kind = 'customer.read' AND entity_id = $1`,
    [customer.orgId],
  );
  expect(rows[0]!.at).not.toBeNull();

  const bob = await openConsole();
  await bob.signIn(stack.account('bob'));
  await openCustomer(bob.page, customer.orgId);
  const viewed = bob.page.getByRole('table', { name: 'Who viewed this record' });
  const carolRow = viewed.getByRole('row').filter({ hasText: 'Carol Nguyen' }).filter({ hasText: 'Opened the record' });
  await expect(carolRow.first()).toBeVisible();
  // Her search for the customer listed it too.
  await expect(viewed.getByRole('row').filter({ hasText: 'Carol Nguyen' }).filter({ hasText: 'Listed in a search' }).first()).toBeVisible();
  await bob.screenshot('09b-who-viewed');
});
