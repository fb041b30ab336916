// "Your change requests" (on the portfolio, renderer/app/Shell.tsx): the maker sees how their recent
// requests ended, with the checker's reason and a link to each record; others'
// requests, pending ones, withdrawn ones and old ones are left out; dismissing
// hides them until a newer outcome. window.cims is the stand-in bridge.
import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { ChangeRequest } from '../../../shared/api';
import { fail, installBridge } from '../../test/standInBridge';
import { renderApp } from '../../test/render';
import { MyOutcomes } from './MyOutcomes';

const ago = (hours: number) => new Date(Date.now() - hours * 3_600_000).toISOString();
const bob = { sub: 'bob', name: 'Bob Lead' };

function request(id: number, over: Partial<ChangeRequest>): ChangeRequest {
  return {
    id: String(id), orgId: `ORG-00000${id}`, orgName: `Org ${id}`, kind: 'edit', baseVersion: 1,
    changes: [{ field: 'contractValueCents', before: 100, after: 200 }], reason: 'Renewal at a higher tier',
    maker: { sub: 'alice', name: 'Alice Martin' }, createdAt: ago(48), expiresAt: ago(-24 * 12), status: 'pending',
    checker: null, checkerReason: null, decidedAt: null, version: 1, ...over,
  };
}

const ITEMS: ChangeRequest[] = [
  request(1, { status: 'approved', checker: bob, checkerReason: 'Contract signed', decidedAt: ago(1), version: 2 }),
  request(2, { status: 'rejected', checker: bob, checkerReason: 'No signed order yet', decidedAt: ago(3), version: 2 }),
  request(3, { status: 'stale', decidedAt: ago(5), version: 2 }),
  request(4, { kind: 'archive', status: 'expired', decidedAt: ago(6), version: 2 }),
  // Left out: still waiting, withdrawn by the maker, someone else's, decided weeks ago.
  request(5, {}),
  request(6, { status: 'withdrawn', decidedAt: ago(2), version: 2 }),
  request(7, { status: 'approved', maker: { sub: 'carol', name: 'Carol Chen' }, checker: bob, checkerReason: 'Fine', decidedAt: ago(1), version: 2 }),
  request(8, { status: 'rejected', checker: bob, checkerReason: 'Old news', decidedAt: ago(24 * 20), version: 2 }),
];


beforeEach(() => sessionStorage.clear());

describe('your change requests', () => {
  it('lists how the maker’s recent requests ended, newest first, with the checker’s reason, and opens the record', async () => {
    const bridge = installBridge({ 'approvals:list': () => ({ items: ITEMS, nextCursor: null }) });
    const onOpen = vi.fn();
    const user = userEvent.setup();
    renderApp(<MyOutcomes me="alice" onOpen={onOpen} />);
    const notice = await screen.findByRole('region', { name: 'Your change requests' });
    const rows = within(notice).getAllByRole('listitem');
    expect(rows.map((r) => r.textContent)).toEqual([
      expect.stringMatching(/^Approved\s*Org 1 #1 \(edit, .+\): approved by Bob Lead: “Contract signed”$/),
      expect.stringMatching(/^Rejected\s*Org 2 #2 .*rejected by Bob Lead: “No signed order yet”$/),
      expect.stringMatching(/^Stale\s*Org 3 #3 .*nothing was applied/),
      expect.stringMatching(/^Expired\s*Org 4 #4 \(archive, .*nobody decided in time/),
    ]);
    await user.click(within(notice).getByRole('button', { name: 'Org 2' }));
    expect(onOpen).toHaveBeenCalledWith('ORG-000002');
    expect(bridge.inputsOf('approvals:list')).toEqual([{ limit: 50 }]);
  });

  it('dismissed, stays hidden until a newer outcome arrives', async () => {
    let items = ITEMS.slice(0, 2);
    const bridge = installBridge({ 'approvals:list': () => ({ items, nextCursor: null }) });
    const user = userEvent.setup();
    const first = renderApp(<MyOutcomes me="alice" onOpen={() => {}} />);
    await user.click(await screen.findByRole('button', { name: 'Dismiss these outcomes' }));
    expect(screen.queryByRole('region', { name: 'Your change requests' })).toBeNull();
    first.unmount();

    const second = renderApp(<MyOutcomes me="alice" onOpen={() => {}} />);
    await vi.waitFor(() => expect(bridge.inputsOf('approvals:list')).toHaveLength(2));
    expect(screen.queryByRole('region', { name: 'Your change requests' })).toBeNull();
    second.unmount();

    items = [request(9, { status: 'approved', checker: bob, checkerReason: 'Done', decidedAt: ago(0.1), version: 2 }), ...ITEMS.slice(0, 2)];
    renderApp(<MyOutcomes me="alice" onOpen={() => {}} />);
    const notice = await screen.findByRole('region', { name: 'Your change requests' });
    expect(within(notice).getAllByRole('listitem')).toHaveLength(1);
    expect(notice).toHaveTextContent('Org 9');
  });

  it('shows nothing when no request of theirs ended lately, and says so when the requests could not be checked', async () => {
    installBridge({ 'approvals:list': (_i, n) => (n === 1 ? fail('unavailable', 'The API is not reachable') : { items: ITEMS.slice(4), nextCursor: null }) });
    const user = userEvent.setup();
    renderApp(<MyOutcomes me="alice" onOpen={() => {}} />);
    expect(await screen.findByText(/Could not check how your change requests ended/)).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Retry' }));
    await vi.waitFor(() => expect(screen.queryByText(/Could not check/)).toBeNull());
    expect(screen.queryByRole('region', { name: 'Your change requests' })).toBeNull();
  });
});
