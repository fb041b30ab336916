// "Revert this change" in the edit form: filled with the event's before-values,
// the reason prefilled, a field changed again since marked as a conflict, and the
// save names the reverted event. window.cims is the stand-in bridge (no main process in jsdom).
import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { detail } from '../../../dev/demo';
import { installBridge } from '../../../test/standInBridge';
import { renderApp } from '../../../test/render';
import { EditCustomerScreen } from './EditCustomerScreen';

const ORG = 'ORG-000001'; // demo record: contact Grace Hopper, grace@example.com, version 3

describe('revert of one change', () => {
  it('starts from the record with the before-values, marks a field changed again since, and saves with revertOf', async () => {
    const bridge = installBridge({
      'customers:get': () => detail(ORG),
      'customers:update': (i) => detail(ORG, { version: 4, contactEmail: String(i.changes.contactEmail) }),
    });
    const revert = {
      eventId: '42',
      changes: [
        // The email the change set is still there: a plain revert.
        { field: 'contactEmail', before: 'old@example.com', after: 'grace@example.com' },
        // The name was changed again since: a conflict.
        { field: 'contactName', before: 'Ada Lovelace', after: 'Someone Between' },
      ],
    };
    const user = userEvent.setup();
    const onSaved = vi.fn();
    renderApp(<EditCustomerScreen orgId={ORG} draftOwner="alice" onSaved={onSaved} onCancel={() => {}} revert={revert} />);

    expect(await screen.findByRole('textbox', { name: /Contact email/ })).toHaveValue('old@example.com');
    expect(screen.getByRole('textbox', { name: /Contact name/ })).toHaveValue('Ada Lovelace');
    expect(screen.getByRole('textbox', { name: /Reason for this change/ })).toHaveValue('Revert of change #42');
    expect(screen.getByText('Reverting change #42')).toBeInTheDocument();
    expect(screen.getByText(/Conflict: changed again since #42, now Grace Hopper/)).toBeInTheDocument();
    expect(screen.getByRole('list', { name: 'Fields changed since the reverted change' })).toHaveTextContent('Contact name');

    // Keep the current name: only the email goes back.
    const name = screen.getByRole('textbox', { name: /Contact name/ });
    await user.clear(name);
    await user.type(name, 'Grace Hopper');
    await user.click(screen.getByRole('button', { name: 'Review changes' }));
    const dialog = await screen.findByRole('dialog', { name: 'Review changes' });
    expect(within(dialog).getAllByRole('row')).toHaveLength(2);
    await user.click(within(dialog).getByRole('button', { name: 'Save changes' }));
    await vi.waitFor(() => expect(onSaved).toHaveBeenCalledWith(ORG));
    expect(bridge.inputsOf('customers:update')).toEqual([
      { orgId: ORG, version: 3, changes: { contactEmail: 'old@example.com' }, reason: 'Revert of change #42', revertOf: '42' },
    ]);
  });
});

describe('a draft saved during a revert', () => {
  it('keeps the reverted event: reopened from the draft, it still says so and saves with revertOf', async () => {
    sessionStorage.clear();
    const bridge = installBridge({
      'customers:get': () => detail(ORG),
      'customers:update': (i) => detail(ORG, { version: 4, contactEmail: String(i.changes.contactEmail) }),
    });
    const revert = { eventId: '42', changes: [{ field: 'contactEmail', before: 'old@example.com', after: 'grace@example.com' }] };
    const user = userEvent.setup();
    const first = renderApp(<EditCustomerScreen orgId={ORG} draftOwner="alice" onSaved={() => {}} onCancel={() => {}} revert={revert} />);
    const reason = await screen.findByRole('textbox', { name: /Reason for this change/ });
    await user.type(reason, ', typo');
    // The form goes away unsaved (a lock, a crash): the draft is what is left.
    first.unmount();

    const onSaved = vi.fn();
    renderApp(<EditCustomerScreen orgId={ORG} draftOwner="alice" onSaved={onSaved} onCancel={() => {}} />);
    expect(await screen.findByRole('textbox', { name: /Contact email/ })).toHaveValue('old@example.com');
    expect(screen.getByRole('textbox', { name: /Reason for this change/ })).toHaveValue('Revert of change #42, typo');
    expect(screen.getByText('Reverting change #42')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Review changes' }));
    const dialog = await screen.findByRole('dialog', { name: 'Review changes' });
    await user.click(within(dialog).getByRole('button', { name: 'Save changes' }));
    await vi.waitFor(() => expect(onSaved).toHaveBeenCalledWith(ORG));
    expect(bridge.inputsOf('customers:update')).toEqual([
      { orgId: ORG, version: 3, changes: { contactEmail: 'old@example.com' }, reason: 'Revert of change #42, typo', revertOf: '42' },
    ]);
  });
});
