// Component tests of the audited edit. window.cims is a stand-in (see
// renderer/test/standInBridge.ts): the main process does not exist in jsdom.
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { detail } from '../../../dev/demo';
import { fail, installBridge } from '../../../test/standInBridge';
import { renderApp } from '../../../test/render';
import { EditCustomerScreen } from './EditCustomerScreen';

const ORG = 'ORG-000001'; // demo record: contact Grace Hopper, grace@example.com, version 3
const input = (name: RegExp) => screen.findByRole('textbox', { name });

function renderEdit(onSaved = vi.fn()) {
  renderApp(<EditCustomerScreen orgId={ORG} draftOwner="alice" onSaved={onSaved} onCancel={() => {}} />);
  return onSaved;
}

describe('edit customer', () => {
  it('shows the shared schema’s errors as you type', async () => {
    installBridge({ 'customers:get': () => detail(ORG) });
    const user = userEvent.setup();
    renderEdit();
    const email = await input(/Contact email/);
    expect(email).toHaveValue('grace@example.com');
    await user.clear(email);
    await user.type(email, 'grace@');
    expect(await screen.findByText('Enter a valid email address')).toBeInTheDocument();
    await user.type(email, 'example.org');
    await waitFor(() => expect(screen.queryByText('Enter a valid email address')).not.toBeInTheDocument());
    await user.type(screen.getByRole('textbox', { name: /Reason for this change/ }), 'ok');
    expect(await screen.findByText('Say why you make this change (at least 3 characters)')).toBeInTheDocument();
  });

  it('reviews before → after and saves only the changed field with the version it edited', async () => {
    const bridge = installBridge({
      'customers:get': () => detail(ORG),
      'customers:update': (i) => detail(ORG, { version: 4, contactName: String(i.changes.contactName) }),
    });
    const user = userEvent.setup();
    const onSaved = renderEdit();
    const name = await input(/Contact name/);
    await user.clear(name);
    await user.type(name, 'Barbara Liskov');
    await user.type(screen.getByRole('textbox', { name: /Reason for this change/ }), 'New main contact');
    await user.click(screen.getByRole('button', { name: 'Review changes' }));

    const dialog = await screen.findByRole('dialog', { name: 'Review changes' });
    const rows = within(dialog).getAllByRole('row');
    expect(rows).toHaveLength(2); // header + one change
    expect(within(rows[1]!).getByText('Contact name')).toBeInTheDocument();
    expect(within(rows[1]!).getByText('Grace Hopper')).toBeInTheDocument();
    expect(within(rows[1]!).getByText('Barbara Liskov')).toBeInTheDocument();

    await user.click(within(dialog).getByRole('button', { name: 'Save changes' }));
    await waitFor(() => expect(onSaved).toHaveBeenCalledWith(ORG));
    expect(bridge.inputsOf('customers:update')).toEqual([
      { orgId: ORG, version: 3, changes: { contactName: 'Barbara Liskov' }, reason: 'New main contact' },
    ]);
  });

  it('on 412 shows what the other person changed and re-applies the edit on top without retyping', async () => {
    const theirs = detail(ORG, { version: 5, contactPhone: '+49 30 5550100' });
    const bridge = installBridge({
      'customers:get': (_i, n) => (n === 1 ? detail(ORG) : theirs),
      'customers:update': (i, n) =>
        n === 1 ? fail('conflict', 'Someone else changed this customer', { status: 412 }) : detail(ORG, { ...theirs.customer, version: 6, contactName: String(i.changes.contactName) }),
    });
    const user = userEvent.setup();
    const onSaved = renderEdit();
    const name = await input(/Contact name/);
    await user.clear(name);
    await user.type(name, 'Barbara Liskov');
    await user.type(screen.getByRole('textbox', { name: /Reason for this change/ }), 'New main contact');
    await user.click(screen.getByRole('button', { name: 'Review changes' }));
    await user.click(await screen.findByRole('button', { name: 'Save changes' }));

    const alert = await screen.findByText('Someone else changed this customer while you were editing');
    const theirChanges = within(alert.closest('[role="alert"]') as HTMLElement).getByRole('list', { name: 'Changes by someone else' });
    expect(theirChanges).toHaveTextContent('Contact phone:');
    expect(theirChanges).toHaveTextContent('+49 30 5550100');
    expect(theirChanges).not.toHaveTextContent('Contact name');

    await user.click(screen.getByRole('button', { name: 'Re-apply my changes on top' }));
    const dialog = await screen.findByRole('dialog', { name: 'Review changes' });
    expect(within(dialog).getByText('Barbara Liskov')).toBeInTheDocument();
    expect(within(dialog).queryByText('+49 30 5550100')).not.toBeInTheDocument();
    await user.click(within(dialog).getByRole('button', { name: 'Save changes' }));

    await waitFor(() => expect(onSaved).toHaveBeenCalledWith(ORG));
    expect(bridge.inputsOf('customers:update')[1]).toEqual({
      orgId: ORG,
      version: 5,
      changes: { contactName: 'Barbara Liskov' },
      reason: 'New main contact',
    });
  });

  it('keeps the draft when the API is unreachable and saves it later, even after the screen was closed', async () => {
    installBridge({ 'customers:get': () => detail(ORG), 'customers:update': () => fail('unavailable', 'API unreachable') });
    const user = userEvent.setup();
    const first = renderApp(<EditCustomerScreen orgId={ORG} draftOwner="alice" onSaved={() => {}} onCancel={() => {}} />);
    const email = await input(/Contact email/);
    await user.clear(email);
    await user.type(email, 'ada@example.com');
    await user.type(screen.getByRole('textbox', { name: /Reason for this change/ }), 'Billing contact moved');
    await user.click(screen.getByRole('button', { name: 'Review changes' }));
    await user.click(await screen.findByRole('button', { name: 'Save changes' }));

    expect(await screen.findByText('Not saved yet: your changes are kept')).toBeInTheDocument();
    expect(screen.getByRole('textbox', { name: /Contact email/ })).toHaveValue('ada@example.com');
    first.unmount();

    // Later (say after unlocking): the API is back and the screen opens again.
    const bridge = installBridge({
      'customers:get': () => detail(ORG),
      'customers:update': () => detail(ORG, { version: 4, contactEmail: 'ada@example.com' }),
    });
    const onSaved = renderEdit();
    expect(await screen.findByText(/Restored your unsaved changes/)).toBeInTheDocument();
    expect(screen.getByRole('textbox', { name: /Contact email/ })).toHaveValue('ada@example.com');
    expect(screen.getByRole('textbox', { name: /Reason for this change/ })).toHaveValue('Billing contact moved');
    await user.click(screen.getByRole('button', { name: 'Review changes' }));
    await user.click(await screen.findByRole('button', { name: 'Save changes' }));
    await waitFor(() => expect(onSaved).toHaveBeenCalledWith(ORG));
    expect(bridge.inputsOf('customers:update')).toEqual([
      { orgId: ORG, version: 3, changes: { contactEmail: 'ada@example.com' }, reason: 'Billing contact moved' },
    ]);
  });
});
