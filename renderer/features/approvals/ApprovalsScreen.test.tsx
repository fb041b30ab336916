// The Approvals screen. window.cims is a stand-in (renderer/test/standInBridge.ts):
// the main process does not exist in jsdom. The API and database refuse a
// decision by the maker whatever this screen shows (api/test/*/change-requests).
import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { changeRequest, detail } from '../../dev/demo';
import { installBridge } from '../../test/standInBridge';
import { renderApp } from '../../test/render';
import ApprovalsScreen from './ApprovalsScreen';

const queue = [changeRequest(0), changeRequest(1, { maker: { sub: 'bob', name: 'Bob Keller' }, kind: 'archive', changes: [{ field: 'status', before: 'active', after: 'archived' }] })];

describe('Approvals', () => {
  it('lists the queue newest first, shows the chosen request beside the current record, and approves with a reason', async () => {
    const bridge = installBridge({
      'approvals:list': () => ({ items: queue, nextCursor: null }),
      'approvals:get': (i) => queue.find((r) => r.id === i.id)!,
      'customers:get': (i) => detail(i.orgId),
      'approvals:approve': (i) => ({ ...queue[0]!, status: 'approved', checker: { sub: 'lena', name: 'Lena Lead' }, checkerReason: i.reason, version: 2 }),
    });
    const user = userEvent.setup();
    renderApp(<ApprovalsScreen me="lena" onOpenCustomer={() => undefined} />);

    const nav = await screen.findByRole('navigation', { name: 'Change requests, newest first' });
    expect(within(nav).getAllByRole('button').map((b) => b.textContent)).toEqual([
      expect.stringContaining(queue[0]!.orgName),
      expect.stringContaining(queue[1]!.orgName),
    ]);
    const table = await screen.findByRole('table', { name: 'Requested changes beside the current record' });
    expect(within(table).getByText('Contract value')).toBeInTheDocument();
    expect(within(table).getByText('+49 30 5550199')).toBeInTheDocument();
    expect(bridge.inputsOf('approvals:list')[0]).toEqual({ status: 'pending', limit: 50 });

    // No reason: nothing is sent.
    await user.click(screen.getByRole('button', { name: 'Approve and apply' }));
    expect(await screen.findByText('Say why you make this change (at least 3 characters)')).toBeInTheDocument();
    expect(bridge.inputsOf('approvals:approve')).toHaveLength(0);

    await user.type(screen.getByLabelText(/Reason for your decision/), 'Order form checked');
    await user.click(screen.getByRole('button', { name: 'Approve and apply' }));
    expect(await screen.findByText('The change to ' + queue[0]!.orgName + ' is applied.')).toBeInTheDocument();
    expect(bridge.inputsOf('approvals:approve')).toEqual([{ id: queue[0]!.id, version: 1, reason: 'Order form checked' }]);
  });

  it("offers no decision on the signed-in person's own request", async () => {
    installBridge({
      'approvals:list': () => ({ items: [queue[1]!], nextCursor: null }),
      'approvals:get': () => queue[1]!,
      'customers:get': (i) => detail(i.orgId),
    });
    renderApp(<ApprovalsScreen me="bob" onOpenCustomer={() => undefined} />);
    expect(await screen.findByText('You made this request')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Approve and apply' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Reject' })).toBeNull();
  });

  it('says when the customer changed since the request, and that approving will not apply it', async () => {
    const r = changeRequest(0, { baseVersion: 2 }); // the demo record is at version 3
    installBridge({ 'approvals:list': () => ({ items: [r], nextCursor: null }), 'approvals:get': () => r, 'customers:get': (i) => detail(i.orgId) });
    renderApp(<ApprovalsScreen me="lena" onOpenCustomer={() => undefined} />);
    expect(await screen.findByText('The customer changed since this request was made')).toBeInTheDocument();
  });

  it('shows an empty queue and a failed one with a retry', async () => {
    installBridge({ 'approvals:list': () => ({ items: [], nextCursor: null }) });
    const { unmount } = renderApp(<ApprovalsScreen me="lena" onOpenCustomer={() => undefined} />);
    expect(await screen.findByText('No change waits for approval')).toBeInTheDocument();
    unmount();
    installBridge({});
    renderApp(<ApprovalsScreen me="lena" onOpenCustomer={() => undefined} />);
    expect(await screen.findByText('Could not load the change requests')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Try again' })).toBeInTheDocument();
  });
});
