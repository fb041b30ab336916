// Search states of the customer list. window.cims is a stand-in (renderer/test/standInBridge.ts):
// the main process does not exist in jsdom.
import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { listItem } from '../../../dev/demo';
import { fail, installBridge } from '../../../test/standInBridge';
import { renderApp } from '../../../test/render';
import { CustomersScreen } from './CustomersScreen';

const page = (from: number, n: number) => ({ items: Array.from({ length: n }, (_, k) => listItem(from + k)), nextCursor: null });
const show = () => renderApp(<CustomersScreen searchOwner="alice" onOpen={() => {}} focusSearchSignal={0} />);

describe('customer search', () => {
  it('shows a skeleton while loading, then the rows as text', async () => {
    let release: (v: unknown) => void = () => {};
    installBridge({ 'customers:list': () => new Promise((r) => (release = r)) });
    show();
    expect(await screen.findByRole('status', { name: 'Loading customers' })).toBeInTheDocument();
    release(page(1, 8));
    expect(await screen.findByRole('button', { name: 'Contoso Health' })).toBeInTheDocument();
    // Markup in data is shown as text, never as HTML.
    expect(screen.getByRole('button', { name: '<img src=x onerror=alert(1)>' })).toBeInTheDocument();
    expect(document.querySelector('img')).toBeNull();
  });

  it('debounces typing into one search and says when nothing matches', async () => {
    const bridge = installBridge({ 'customers:list': (i) => (i.q ? { items: [], nextCursor: null } : page(1, 3)) });
    const user = userEvent.setup();
    show();
    await screen.findByRole('button', { name: 'Contoso Health' });
    await user.type(screen.getByRole('textbox', { name: 'Search' }), 'zz-none');
    expect(await screen.findByText('No customers match')).toBeInTheDocument();
    const queries = bridge.inputsOf('customers:list').map((i) => i.q);
    expect(queries).toContain('zz-none');
    expect(queries).not.toContain('z');
    await user.click(screen.getByRole('button', { name: 'Clear search and filters' }));
    expect(await screen.findByRole('button', { name: 'Contoso Health' })).toBeInTheDocument();
  });

  it('says a search that matches too many customers is too broad, and how to narrow it', async () => {
    installBridge({ 'customers:list': (i) => (i.q ? { items: [], nextCursor: null, tooBroad: true } : page(1, 3)) });
    const user = userEvent.setup();
    show();
    await screen.findByRole('button', { name: 'Contoso Health' });
    await user.type(screen.getByRole('textbox', { name: 'Search' }), '.com');
    expect(await screen.findByText('Search too broad')).toBeInTheDocument();
    expect(screen.getByText(/More than 5,000 customers match/)).toBeInTheDocument();
    expect(screen.queryByText('No customers match')).toBeNull();
  });

  it('shows an error with a retry that loads again', async () => {
    const bridge = installBridge({ 'customers:list': (_i, n) => (n === 1 ? fail('unavailable', 'API unreachable') : page(1, 2)) });
    const user = userEvent.setup();
    show();
    expect(await screen.findByText('Could not load customers')).toBeInTheDocument();
    expect(screen.getByText(/cannot be reached right now/)).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByRole('button', { name: 'Contoso Health' })).toBeInTheDocument();
    await waitFor(() => expect(bridge.inputsOf('customers:list')).toHaveLength(2));
  });
});
