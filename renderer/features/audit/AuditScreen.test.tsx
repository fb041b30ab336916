// Audit review filters. window.cims is a stand-in (renderer/test/standInBridge.ts):
// the main process does not exist in jsdom.
import { fireEvent, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { auditEvent } from '../../dev/demo';
import { installBridge } from '../../test/standInBridge';
import { renderApp } from '../../test/render';
import AuditScreen from './AuditScreen';

describe('audit review filters', () => {
  it('sends the typed filters to audit:events and shows the events', async () => {
    const bridge = installBridge({ 'audit:events': (i) => ({ items: i.orgId ? [auditEvent(1)] : [auditEvent(0), auditEvent(1)], nextCursor: null }) });
    const user = userEvent.setup();
    renderApp(<AuditScreen />);
    await screen.findByText('2 events shown, newest first');
    await user.type(screen.getByRole('textbox', { name: 'User' }), 'alice');
    await user.type(screen.getByRole('textbox', { name: 'Customer' }), 'org-000002');
    await user.selectOptions(screen.getByRole('combobox', { name: 'Field' }), 'contactEmail');
    await user.selectOptions(screen.getByRole('combobox', { name: 'Action' }), 'customer.update');
    fireEvent.change(screen.getByLabelText('From'), { target: { value: '2026-11-01' } });
    fireEvent.change(screen.getByLabelText('To'), { target: { value: '2026-11-21' } });
    await user.click(screen.getByRole('button', { name: 'Apply filters' }));

    await screen.findByText('1 events shown, newest first');
    expect(bridge.inputsOf('audit:events').at(-1)).toEqual({
      actor: 'alice',
      orgId: 'ORG-000002',
      field: 'contactEmail',
      action: 'customer.update',
      from: new Date('2026-11-01T00:00:00').toISOString(),
      to: new Date('2026-11-21T23:59:59.999').toISOString(),
      limit: 100,
    });
    expect(screen.getByText('10.20.0.11')).toBeInTheDocument();
  });

  it('refuses a malformed customer id or an inverted range without asking the API', async () => {
    const bridge = installBridge({ 'audit:events': () => ({ items: [], nextCursor: null }) });
    const user = userEvent.setup();
    renderApp(<AuditScreen />);
    await screen.findByText('No audit events match these filters');
    await user.type(screen.getByRole('textbox', { name: 'Customer' }), 'ACME');
    fireEvent.change(screen.getByLabelText('From'), { target: { value: '2026-11-21' } });
    fireEvent.change(screen.getByLabelText('To'), { target: { value: '2026-11-01' } });
    await user.click(screen.getByRole('button', { name: 'Apply filters' }));
    expect(await screen.findByText('Organization id looks like ORG-000123')).toBeInTheDocument();
    expect(screen.getByText('The end date is before the start date')).toBeInTheDocument();
    await waitFor(() => expect(bridge.inputsOf('audit:events')).toHaveLength(1));
  });
});
