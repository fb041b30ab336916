// One window, several people: whoever signs in next must see nothing of the one
// before (cached records, the remembered search, the screen they were on), while
// the same person unlocking after a lock finds everything as they left it.
// window.cims is a stand-in (renderer/test/standInBridge.ts).
import type { QueryClient } from '@tanstack/react-query';
import { screen, waitFor } from '@testing-library/react';
import userEvent, { type UserEvent } from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { CustomerListItem } from '../../shared/api';
import type { SessionState } from '../../shared/ipc';
import { ALICE, CAROL, detail, ISSUER, listItem, signedIn, usage } from '../dev/demo';
import { installBridge } from '../test/standInBridge';
import { renderApp } from '../test/render';
import { App } from './App';

type Person = typeof ALICE;
const session = (status: SessionState['status'], user: Person | null): SessionState => ({
  status,
  issuer: ISSUER,
  user,
  message: null,
  signInUrl: null,
  signInDeadline: null,
});

// Alice's customers: Contoso Health (ORG-000001) and Fabrikam Logistics; Carol's: Tailspin Aviation.
const ALICES_NAMES = /Contoso|Fabrikam/;
const listOf = (who: Person): CustomerListItem[] => (who.sub === 'alice' ? [listItem(1), listItem(2)] : [listItem(3)]);

/**
 * The main process as the stand-in plays it: whoever is signed in gets their own
 * rows. Carol's first list is held back until the test releases it, so the moment
 * before her data arrives can be looked at.
 */
function standInConsole() {
  let current: Person = ALICE;
  let releaseCarol: () => void = () => {};
  const carolsFirstList = new Promise<void>((resolve) => (releaseCarol = resolve));
  const bridge = installBridge({
    'session:get': () => signedIn(current),
    'session:signOut': () => session('signedOut', null),
    'session:signIn': () => session('signingIn', null),
    'session:activity': () => null,
    'customers:list': async () => {
      if (current.sub === 'carol') await carolsFirstList;
      return { items: listOf(current), nextCursor: null };
    },
    'customers:get': (i) => detail(i.orgId),
    'customers:usage': (i) => usage(i.days),
    'customers:predictions': () => [],
    'customers:audit': () => ({ items: [], nextCursor: null }),
  });
  return {
    bridge,
    releaseCarol,
    /** The next person completes sign-in in the browser; the main process says so. */
    signedInAs: (who: Person) => {
      current = who;
      bridge.emit('session:changed', signedIn(who));
    },
    lock: () => bridge.emit('session:changed', { ...signedIn(current), status: 'locked', message: 'Locked after 15 minutes without activity.' }),
  };
}

/** Everything the cache holds, keys and data, as one string to search. */
const cacheText = (client: QueryClient) =>
  JSON.stringify([
    client.getQueryCache().getAll().map((q) => [q.queryKey, q.state.data]),
    client.getMutationCache().getAll().map((m) => [m.state.variables, m.state.data]),
  ]);

/** Alice searches, opens Contoso Health, and is on its record. */
async function aliceSearchesAndOpensARecord(user: UserEvent, bridge: ReturnType<typeof installBridge>) {
  expect(await screen.findByRole('heading', { name: 'My portfolio' })).toBeInTheDocument();
  expect(await screen.findByRole('button', { name: 'Contoso Health' })).toBeInTheDocument();
  await user.click(screen.getByRole('button', { name: 'Customers' }));
  const search = await screen.findByRole('textbox', { name: 'Search' });
  await user.clear(search); // the search is remembered per user for the window's lifetime, across tests too
  await user.type(search, 'Contoso');
  await waitFor(() => expect(bridge.inputsOf('customers:list').some((i) => i.q === 'Contoso')).toBe(true));
  await user.click(await screen.findByRole('button', { name: 'Contoso Health' }));
  expect(await screen.findByRole('heading', { name: 'Contoso Health' })).toBeInTheDocument();
}

/** Carol is in: her start screen, her rows only, an empty search, and a cache without Alice. */
async function expectOnlyCarol(user: UserEvent, client: QueryClient, standIn: ReturnType<typeof standInConsole>) {
  // Before Carol's own list has arrived: a loading state, never Alice's rows.
  expect(await screen.findByRole('heading', { name: 'My portfolio' })).toBeInTheDocument();
  expect(screen.getByRole('status', { name: 'Loading your customers' })).toBeInTheDocument();
  expect(screen.queryByText(ALICES_NAMES)).not.toBeInTheDocument();
  expect(cacheText(client)).not.toMatch(ALICES_NAMES);

  standIn.releaseCarol();
  expect(await screen.findByRole('button', { name: 'Tailspin Aviation' })).toBeInTheDocument();
  expect(screen.getByRole('button', { name: `Account: ${CAROL.name}` })).toBeInTheDocument();
  await user.click(screen.getByRole('button', { name: 'Customers' }));
  expect(await screen.findByRole('textbox', { name: 'Search' })).toHaveValue('');
  expect(await screen.findByRole('button', { name: 'Tailspin Aviation' })).toBeInTheDocument();
  expect(screen.queryByText(ALICES_NAMES)).not.toBeInTheDocument();
  const cached = cacheText(client);
  expect(cached).not.toMatch(ALICES_NAMES);
  expect(cached).not.toContain('ORG-000001');
  expect(cached).not.toContain(ALICE.name);
}

describe('a different person signs in', () => {
  it('after a sign-out: nothing of the previous user remains', async () => {
    const standIn = standInConsole();
    const user = userEvent.setup();
    const { client } = renderApp(<App />);
    await aliceSearchesAndOpensARecord(user, standIn.bridge);
    // Alice's own search is still there when she goes back from the record.
    await user.click(screen.getByRole('button', { name: '← Customers' }));
    expect(await screen.findByRole('textbox', { name: 'Search' })).toHaveValue('Contoso');
    await user.click(await screen.findByRole('button', { name: 'Contoso Health' }));
    expect(await screen.findByRole('heading', { name: 'Contoso Health' })).toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: `Account: ${ALICE.name}` }));
    await user.click(await screen.findByRole('menuitem', { name: 'Sign out' }));
    await user.click(await screen.findByRole('button', { name: 'Sign in with your company account' }));
    // Signed out: the cache keeps the session and nothing of Alice.
    expect(cacheText(client)).not.toMatch(ALICES_NAMES);

    standIn.signedInAs(CAROL);
    await expectOnlyCarol(user, client, standIn);
  });

  it('unlocking a console someone else locked: nothing of the previous user remains', async () => {
    const standIn = standInConsole();
    const user = userEvent.setup();
    const { client } = renderApp(<App />);
    await aliceSearchesAndOpensARecord(user, standIn.bridge);

    standIn.lock();
    await screen.findByRole('dialog', { name: 'Console locked' });
    await user.click(screen.getByRole('button', { name: 'Unlock' }));
    expect(await screen.findByRole('dialog', { name: 'Signing in' })).toBeInTheDocument();

    standIn.signedInAs(CAROL);
    await expectOnlyCarol(user, client, standIn);
  });
});

describe('the same person unlocks', () => {
  it('keeps their unsaved edit, their screen and what was loaded', async () => {
    const standIn = standInConsole();
    const user = userEvent.setup();
    const { client } = renderApp(<App />);
    await user.click(await screen.findByRole('button', { name: 'Contoso Health' }));
    await user.click(await screen.findByRole('button', { name: 'Edit customer' }));
    const name = await screen.findByRole('textbox', { name: /Contact name/ });
    await user.clear(name);
    await user.type(name, 'Barbara Liskov');

    standIn.lock();
    await screen.findByRole('dialog', { name: 'Console locked' });
    await user.click(screen.getByRole('button', { name: 'Unlock' }));
    await screen.findByRole('dialog', { name: 'Signing in' });
    standIn.signedInAs(ALICE);

    await waitFor(() => expect(screen.queryByRole('dialog', { name: 'Signing in' })).not.toBeInTheDocument());
    expect(screen.getByRole('textbox', { name: /Contact name/ })).toHaveValue('Barbara Liskov');
    expect(screen.getByRole('heading', { name: 'Edit Contoso Health' })).toBeInTheDocument();
    expect(client.getQueryData(['customers', 'detail', 'ORG-000001'])).toBeDefined();
  });
});
