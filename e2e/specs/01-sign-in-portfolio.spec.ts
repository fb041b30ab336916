import { HIGH_CHURN_RISK, RENEWAL_SOON_DAYS } from '../../shared/api';
import { expect, MODE, test } from '../support/fixtures';

test.beforeAll(() => console.log(`e2e mode: ${MODE}`));

test('Alice signs in on the provider page and starts her day on her portfolio, riskiest first', async ({ openConsole, stack }) => {
  const app = await openConsole();
  await expect(app.page.getByRole('button', { name: /sign in/i }).first()).toBeVisible();
  await expect(app.page.getByText(new URL(stack.info.issuer).host, { exact: true })).toBeVisible();
  await app.screenshot('01-sign-in');

  await app.signIn(stack.account('alice'));
  await expect(app.page.getByRole('heading', { name: /portfolio/i })).toBeVisible();
  await app.screenshot('02-portfolio');

  // The rows shown are hers, ordered by churn risk as the database has it.
  const { rows } = await stack.db.query<{ org_name: string }>(
    `SELECT org_name FROM core.customers WHERE owner_sub = 'alice' AND status = 'active'
      ORDER BY latest_churn_risk DESC NULLS LAST, org_id LIMIT 3`,
  );
  const table = app.page.getByRole('table').or(app.page.getByRole('grid')).first();
  for (const [i, row] of rows.entries()) {
    await expect(table.getByRole('row').nth(i + 1)).toContainText(row.org_name);
  }

  // The counts are over her whole portfolio, as the database has it, not over the rows loaded so far.
  const { rows: counts } = await stack.db.query<{ customers: string; high: string; soon: string }>(
    `SELECT count(*) AS customers, count(*) FILTER (WHERE latest_churn_risk >= $1) AS high,
            count(*) FILTER (WHERE renewal_date BETWEEN current_date AND current_date + $2::integer) AS soon
       FROM core.customers WHERE owner_sub = 'alice' AND status = 'active'`,
    [HIGH_CHURN_RISK, RENEWAL_SOON_DAYS],
  );
  const summary = app.page.getByRole('group', { name: 'Portfolio summary' });
  const shown = async (label: string) => (await summary.getByText(label, { exact: true }).locator('xpath=following-sibling::*[1]').textContent())?.replace(/\D/g, '');
  await expect(summary).toBeVisible();
  expect(await shown('Customers')).toBe(counts[0]?.customers);
  expect(await shown('High churn risk')).toBe(counts[0]?.high);
  expect(await shown('Renewing within 30 days')).toBe(counts[0]?.soon);
});
