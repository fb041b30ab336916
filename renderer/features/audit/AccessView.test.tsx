// The access review in audit review: its filters reach audit:access, bad input
// is refused before asking, and the CSV export sends the applied filters and
// shows progress. window.cims is a stand-in (renderer/test/standInBridge.ts).
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { accessEvent } from '../../dev/demo';
import { installBridge } from '../../test/standInBridge';
import { renderApp } from '../../test/render';
import AuditScreen from './AuditScreen';

const openAccess = async (user: ReturnType<typeof userEvent.setup>) => {
  renderApp(<AuditScreen />);
  await user.click(screen.getByText('Access', { exact: true }));
};

describe('access review', () => {
  it('sends user, customer and days to audit:access and lists who was shown which customer', async () => {
    const bridge = installBridge({
      'audit:events': () => ({ items: [], nextCursor: null }),
      'audit:access': (i) => ({ items: i.user ? [accessEvent(0, { actorSub: 'carol', actorName: 'Carol Nguyen', orgId: 'ORG-000003' })] : [accessEvent(0), accessEvent(1)], nextCursor: null }),
    });
    const user = userEvent.setup();
    await openAccess(user);
    await screen.findByText('2 access events shown, newest first');
    const form = screen.getByRole('form', { name: 'Access filters' });
    await user.type(within(form).getByRole('textbox', { name: 'User' }), 'carol');
    await user.type(within(form).getByRole('textbox', { name: 'Customer' }), 'org-000003');
    fireEvent.change(within(form).getByLabelText('From'), { target: { value: '2026-11-01' } });
    fireEvent.change(within(form).getByLabelText('To'), { target: { value: '2026-11-21' } });
    await user.click(within(form).getByRole('button', { name: 'Apply filters' }));

    await screen.findByText('1 access events shown, newest first');
    expect(bridge.inputsOf('audit:access').at(-1)).toEqual({
      user: 'carol',
      orgId: 'ORG-000003',
      from: new Date('2026-11-01T00:00:00').toISOString(),
      to: new Date('2026-11-21T23:59:59.999').toISOString(),
      limit: 100,
    });
    const table = screen.getByRole('table', { name: 'Access events, newest first' });
    expect(within(table).getByText('ORG-000003')).toBeInTheDocument();
    expect(within(table).getByText('Carol Nguyen')).toBeInTheDocument();
  });

  it('refuses a malformed customer id or an inverted range without asking the API', async () => {
    const bridge = installBridge({ 'audit:events': () => ({ items: [], nextCursor: null }), 'audit:access': () => ({ items: [], nextCursor: null }) });
    const user = userEvent.setup();
    await openAccess(user);
    await screen.findByText('No access events match these filters');
    const form = screen.getByRole('form', { name: 'Access filters' });
    await user.type(within(form).getByRole('textbox', { name: 'Customer' }), 'ACME');
    fireEvent.change(within(form).getByLabelText('From'), { target: { value: '2026-11-21' } });
    fireEvent.change(within(form).getByLabelText('To'), { target: { value: '2026-11-01' } });
    await user.click(within(form).getByRole('button', { name: 'Apply filters' }));
    expect(await screen.findByText('Organization id looks like ORG-000123')).toBeInTheDocument();
    expect(screen.getByText('The end date is before the start date')).toBeInTheDocument();
    await waitFor(() => expect(bridge.inputsOf('audit:access')).toHaveLength(1));
  });

  it('exports the applied filters as CSV, with progress while it runs', async () => {
    let finish: (v: unknown) => void = () => undefined;
    const bridge = installBridge({
      'audit:events': () => ({ items: [], nextCursor: null }),
      'audit:access': () => ({ items: [accessEvent(0)], nextCursor: null }),
      'audit:exportAccessCsv': () => new Promise((r) => (finish = r)),
    });
    const user = userEvent.setup();
    await openAccess(user);
    const form = screen.getByRole('form', { name: 'Access filters' });
    await user.type(within(form).getByRole('textbox', { name: 'User' }), 'alice');
    await user.click(within(form).getByRole('button', { name: 'Apply filters' }));
    await user.click(within(form).getByRole('button', { name: 'Export CSV' }));
    expect(await screen.findByRole('status', { name: 'Export progress' })).toBeInTheDocument();
    bridge.emit('audit:exportProgress', { rows: 1200, done: false });
    expect(await screen.findByText('1,200 rows written…')).toBeInTheDocument();
    finish({ path: '/tmp/access.csv', rows: 1300 });
    expect(await screen.findByText('1,300 access events written to /tmp/access.csv')).toBeInTheDocument();
    expect(bridge.inputsOf('audit:exportAccessCsv')).toEqual([{ user: 'alice' }]);
    expect(screen.queryByRole('status', { name: 'Export progress' })).not.toBeInTheDocument();
  });
});
