// Four eyes on the record and in the edit form. window.cims is a stand-in
// (renderer/test/standInBridge.ts): the main process does not exist in jsdom.
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { approvalRules, changeRequest, detail } from '../../../dev/demo';
import { installBridge } from '../../../test/standInBridge';
import { renderApp } from '../../../test/render';
import { customerQueries } from '../api/queries';
import { EditCustomerScreen } from '../edit/EditCustomerScreen';
import { CustomerScreen } from './CustomerScreen';

const ORG = 'ORG-000002'; // changeRequest(0) concerns it; its demo record is at version 3

// Rendering the record or the form is CPU-bound: about 0.7 s on half a core, and several
// seconds on the shared two cores during a full run, beyond the 1 s and 5 s these waits had.
// A wait ends as soon as its element shows; only a real failure waits this long (within the
// renderer's 30 s test timeout).
const RENDERED = { timeout: 20_000 };
const base = () => ({
  'customers:get': () => detail(ORG),
  'customers:audit': () => ({ items: [], nextCursor: null }),
  'customers:usage': () => [],
  'approvals:rules': () => approvalRules(),
});

function renderRecord(me = 'alice') {
  return renderApp(
    <CustomerScreen
      orgId={ORG}
      canEdit={(c) => c.ownerSub === me}
      canArchive={(c) => c.ownerSub === me}
      me={me}
      showChangeRequests
      onEdit={() => undefined}
      onBack={() => undefined}
    />,
  );
}

describe('the record with a change request', () => {
  it('shows the pending change in a banner while the record keeps its current values; the maker may withdraw', async () => {
    const bridge = installBridge({ ...base(), 'approvals:list': () => ({ items: [changeRequest(0)], nextCursor: null }) });
    renderRecord();
    const banner = await screen.findByRole('status', { name: /A change waits for approval \(request #40\)/ }, RENDERED);
    expect(within(banner).getByText('+49 30 5550199')).toBeInTheDocument();
    expect(within(banner).getByRole('button', { name: 'Withdraw request' })).toBeInTheDocument();
    expect(screen.getByRole('region', { name: 'Contact' })).toHaveTextContent(detail(ORG).customer.contactPhone);
    expect(bridge.inputsOf('approvals:list')).toEqual([{ orgId: ORG, limit: 5 }]);
  });

  it('tells the maker a stale request applied nothing, and sends it again on top of the current version', async () => {
    const stale = changeRequest(0, { status: 'stale', baseVersion: 2, version: 2, decidedAt: new Date().toISOString() });
    const bridge = installBridge({
      ...base(),
      'approvals:list': () => ({ items: [stale], nextCursor: null }),
      'customers:update': () => ({ changeRequest: changeRequest(1, { orgId: ORG, baseVersion: 3 }) }),
    });
    const user = userEvent.setup();
    renderRecord();
    const banner = await screen.findByRole('status', { name: /Your change request #40: stale/ }, RENDERED);
    await user.click(within(banner).getByRole('button', { name: 'Send again on top of the current record' }));
    await waitFor(() => expect(bridge.inputsOf('customers:update')).toHaveLength(1), RENDERED);
    expect(bridge.inputsOf('customers:update')[0]).toEqual({
      orgId: ORG,
      version: 3,
      reason: stale.reason,
      changes: { contactPhone: '+49 30 5550199', contractValueCents: stale.changes[1]!.after },
    });
  });

  it("shows someone else's decided request to nobody but its maker", async () => {
    const approved = changeRequest(0, { status: 'approved', checker: { sub: 'bob', name: 'Bob Keller' }, checkerReason: 'Fine', decidedAt: new Date().toISOString() });
    installBridge({ ...base(), 'approvals:list': () => ({ items: [approved], nextCursor: null }) });
    const { client } = renderRecord('carol');
    await screen.findByRole('region', { name: 'Contact' }, RENDERED);
    // Only once the banner has its answer does its absence say anything.
    await waitFor(() => expect(client.getQueryState(customerQueries.changeRequests(ORG).queryKey)?.status).toBe('success'), RENDERED);
    expect(screen.queryByRole('status', { name: /change request/i })).toBeNull();
  });

  it('archives through a reason dialog and says it was sent for approval', async () => {
    const bridge = installBridge({
      ...base(),
      'approvals:list': () => ({ items: [], nextCursor: null }),
      'customers:archive': () => ({ changeRequest: changeRequest(2, { orgId: ORG, kind: 'archive', changes: [{ field: 'status', before: 'active', after: 'archived' }] }) }),
    });
    const user = userEvent.setup();
    renderRecord();
    await user.click(await screen.findByRole('button', { name: 'Archive…' }, RENDERED));
    const dialog = await screen.findByRole('dialog', {}, RENDERED);
    await user.click(within(dialog).getByRole('button', { name: 'Send for approval' }));
    expect(await within(dialog).findByText('Say why you make this change (at least 3 characters)', {}, RENDERED)).toBeInTheDocument();
    await user.type(within(dialog).getByRole('textbox', { name: /Reason/ }), 'Account closed by the customer');
    await user.click(within(dialog).getByRole('button', { name: 'Send for approval' }));
    expect(await screen.findByText(/a support lead decides, the record stays as it is until then/, {}, RENDERED)).toBeInTheDocument();
    expect(bridge.inputsOf('customers:archive')).toEqual([{ orgId: ORG, version: 3, reason: 'Account closed by the customer' }]);
  });
});

describe('the edit form and approval rules', () => {
  it('marks the fields that need approval, and a change to one is sent for approval', async () => {
    const bridge = installBridge({
      ...base(),
      'customers:update': () => ({ changeRequest: changeRequest(0) }),
    });
    const onSaved = vi.fn();
    const user = userEvent.setup();
    renderApp(<EditCustomerScreen orgId={ORG} draftOwner="alice" onSaved={onSaved} onCancel={() => undefined} />);
    const value = await screen.findByRole('textbox', { name: /Contract value/ }, RENDERED);
    await waitFor(() => expect(value).toHaveAccessibleDescription(/Needs a support lead’s approval/), RENDERED);
    expect(screen.getByRole('textbox', { name: /Contact phone/ })).not.toHaveAccessibleDescription(/approval/);
    await user.clear(value);
    await user.type(value, '99000');
    await user.clear(screen.getByRole('textbox', { name: /Contact phone/ }));
    await user.type(screen.getByRole('textbox', { name: /Contact phone/ }), '+49 30 5550199');
    await user.type(screen.getByRole('textbox', { name: /Reason for this change/ }), 'Renewal at the enterprise tier');
    await user.click(screen.getByRole('button', { name: 'Review changes' }));
    const review = await screen.findByRole('dialog', { name: 'Review changes' }, RENDERED);
    expect(within(review).getByText('This change is sent for approval')).toBeInTheDocument();
    await user.click(within(review).getByRole('button', { name: 'Send for approval' }));
    expect(await screen.findByText(/all 2 changes wait for a support lead/, {}, RENDERED)).toBeInTheDocument();
    expect(onSaved).toHaveBeenCalledWith(ORG);
    expect(bridge.inputsOf('customers:update')[0]).toMatchObject({ orgId: ORG, version: 3, changes: { contractValueCents: 9_900_000, contactPhone: '+49 30 5550199' } });
  });
});
