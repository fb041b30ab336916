// The portfolio's counts: the whole portfolio as the API counts it, not the
// rows loaded so far. window.cims is a stand-in (renderer/test/standInBridge.ts).
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { HIGH_CHURN_RISK, type CustomerListItem } from '../../../../shared/api';
import type { ChannelInput } from '../../../../shared/ipc';
import { listItem } from '../../../dev/demo';
import { fail, installBridge } from '../../../test/standInBridge';
import { renderApp } from '../../../test/render';
import { PortfolioScreen } from './PortfolioScreen';

const dayOffset = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

// 150 customers, riskiest first: 1..120 at high risk (20 of them past the first page of 100),
// every tenth renewing in 12 days (5 of those past the first page).
const PORTFOLIO: CustomerListItem[] = Array.from({ length: 150 }, (_, k) => {
  const i = k + 1;
  return { ...listItem(i, 'alice'), churnRisk: i <= 120 ? 0.95 - i / 1000 : 0.2, renewalDate: dayOffset(i % 10 === 0 ? 12 : 200) };
});
const SUMMARY = { customers: 150, highChurnRisk: 120, renewingWithin30Days: 15, asOf: dayOffset(0) };

function pages(input: ChannelInput<'customers:list'>) {
  const start = Number(input.cursor ?? 0);
  const end = start + Number(input.limit ?? 50);
  return { items: PORTFOLIO.slice(start, end), nextCursor: end < PORTFOLIO.length ? String(end) : null };
}

const show = () => renderApp(<PortfolioScreen userName="Alice Martin" onOpen={() => {}} />);
const stat = (label: string) => within(screen.getByRole('group', { name: 'Portfolio summary' })).getByText(label).nextElementSibling;

describe('portfolio summary', () => {
  it('shows the API’s totals over the whole portfolio, not the first page’s', async () => {
    const bridge = installBridge({ 'customers:list': pages, 'portfolio:summary': () => SUMMARY });
    show();
    expect(await screen.findByRole('group', { name: 'Portfolio summary' })).toBeInTheDocument();
    expect(stat('Customers')).toHaveTextContent(/^150$/);
    expect(stat('High churn risk')).toHaveTextContent(/^120$/);
    expect(stat('Renewing within 30 days')).toHaveTextContent(/^15$/);
    // The list loaded one page of 100: counting it would have said 100+, 100 and 10.
    await waitFor(() => expect(bridge.inputsOf('customers:list')).toEqual([{ owner: 'me', sort: 'churnRisk', limit: 100 }]));
    expect(PORTFOLIO.slice(0, 100).filter((c) => (c.churnRisk ?? 0) >= HIGH_CHURN_RISK)).toHaveLength(100);
    expect(bridge.inputsOf('portfolio:summary')).toEqual([{}]);
  });

  it('shows the counts as loading while they are, and the rows meanwhile', async () => {
    installBridge({ 'customers:list': pages, 'portfolio:summary': () => new Promise(() => {}) });
    show();
    expect(await screen.findByRole('status', { name: 'Loading the portfolio summary' })).toBeInTheDocument();
    expect(await screen.findByRole('button', { name: PORTFOLIO[0]!.orgName })).toBeInTheDocument();
    expect(screen.queryByRole('group', { name: 'Portfolio summary' })).toBeNull();
  });

  it('says when the counts could not be loaded, and loads them again on retry', async () => {
    const bridge = installBridge({
      'customers:list': pages,
      'portfolio:summary': (_i, n) => (n === 1 ? fail('forbidden', 'Not allowed') : SUMMARY),
    });
    const user = userEvent.setup();
    show();
    expect(await screen.findByText('Could not load the portfolio summary')).toBeInTheDocument();
    // The rows do not depend on the counts.
    expect(await screen.findByRole('button', { name: PORTFOLIO[0]!.orgName })).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByRole('group', { name: 'Portfolio summary' })).toBeInTheDocument();
    expect(stat('Customers')).toHaveTextContent(/^150$/);
    expect(bridge.inputsOf('portfolio:summary')).toHaveLength(2);
  });

  it('shows no counts for an empty portfolio, only the empty state', async () => {
    installBridge({
      'customers:list': () => ({ items: [], nextCursor: null }),
      'portfolio:summary': () => ({ ...SUMMARY, customers: 0, highChurnRisk: 0, renewingWithin30Days: 0 }),
    });
    show();
    expect(await screen.findByText('No customers assigned to you')).toBeInTheDocument();
    expect(screen.queryByRole('group', { name: 'Portfolio summary' })).toBeNull();
  });
});
