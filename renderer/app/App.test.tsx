// Navigation by role and the lock screen. window.cims is a stand-in
// (renderer/test/standInBridge.ts): the main process does not exist in jsdom.
import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { ALICE, BOB, detail, listItem, signedIn, usage } from '../dev/demo';
import { installBridge } from '../test/standInBridge';
import { renderApp } from '../test/render';
import { App } from './App';

const data = {
  'customers:list': () => ({ items: [listItem(1), listItem(3)], nextCursor: null }),
  'customers:get': (i: { orgId: string }) => detail(i.orgId),
  'customers:usage': (i: { days: number }) => usage(i.days),
  'customers:audit': () => ({ items: [], nextCursor: null }),
  'audit:events': () => ({ items: [], nextCursor: null }),
} as const;

describe('navigation by role', () => {
  it('gives a CRM the portfolio and edit on their own customers only, and no audit review', async () => {
    installBridge({ 'session:get': () => signedIn(ALICE), ...data });
    const user = userEvent.setup();
    renderApp(<App />);
    expect(await screen.findByRole('heading', { name: 'My portfolio' })).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Audit review' })).not.toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Customers' }));
    await user.click(await screen.findByRole('button', { name: 'Contoso Health' })); // owned by alice
    expect(await screen.findByRole('button', { name: 'Edit customer' })).toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: '← Customers' }));
    await user.click(await screen.findByRole('button', { name: 'Tailspin Aviation' })); // owned by carol
    expect(await screen.findByRole('heading', { name: 'Tailspin Aviation' })).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Edit customer' })).not.toBeInTheDocument();
  });

  it('gives a support lead the audit review and no edit button', async () => {
    installBridge({ 'session:get': () => signedIn(BOB), ...data });
    const user = userEvent.setup();
    renderApp(<App />);
    expect(await screen.findByRole('heading', { name: 'Customers' })).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'My portfolio' })).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'New customer' })).not.toBeInTheDocument();
    await user.click(await screen.findByRole('button', { name: 'Contoso Health' }));
    expect(await screen.findByRole('heading', { name: 'Contoso Health' })).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Edit customer' })).not.toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Audit review' }));
    expect(await screen.findByRole('heading', { name: 'Audit review' })).toBeInTheDocument();
  });

  it('covers the console when the session locks, and unlocking asks the main process to sign in', async () => {
    const bridge = installBridge({ 'session:get': () => signedIn(ALICE), 'session:signIn': () => ({ ...signedIn(ALICE), status: 'signingIn' }), ...data });
    const user = userEvent.setup();
    renderApp(<App />);
    expect(await screen.findByRole('heading', { name: 'My portfolio' })).toBeInTheDocument();
    bridge.emit('session:changed', { ...signedIn(ALICE), status: 'locked', message: 'Locked after 15 minutes without activity.' });
    const dialog = await screen.findByRole('dialog', { name: 'Console locked' });
    expect(dialog).toHaveTextContent('Your unsaved changes are kept.');
    // The console underneath stays mounted (so forms keep their input) but cannot be reached.
    expect(screen.getByRole('heading', { name: 'My portfolio', hidden: true }).closest('[inert]')).not.toBeNull();
    await user.click(screen.getByRole('button', { name: 'Unlock' }));
    expect(await screen.findByRole('dialog', { name: 'Signing in' })).toBeInTheDocument();
    expect(bridge.inputsOf('session:signIn')).toEqual([{}]);
  });
});
