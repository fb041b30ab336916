// "Who viewed this record" on the record screen: offered to support leads only,
// with its loading, empty and error states, paging, and reachable by keyboard.
// window.cims is a stand-in (renderer/test/standInBridge.ts).
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { accessEvent } from '../../../dev/demo';
import { fail, installBridge, recordAnswers } from '../../../test/standInBridge';
import { renderApp } from '../../../test/render';
import { CustomerScreen } from './CustomerScreen';

const ORG = 'ORG-000001';
const record = recordAnswers(ORG);

const renderRecord = (showAccess: boolean) =>
  renderApp(<CustomerScreen orgId={ORG} canEdit={() => false} showAccess={showAccess} onEdit={() => undefined} onBack={() => undefined} />);

describe('who viewed this record', () => {
  it('lists who opened the record or saw it in a search, with when, what and from where', async () => {
    const bridge = installBridge({
      ...record,
      'customers:access': () => ({
        items: [
          accessEvent(0, { actorName: 'Carol Nguyen', kind: 'customer.read', orgId: ORG, clientAddress: '10.9.8.7' }),
          accessEvent(1, { actorName: 'Alice Martin', kind: 'customer.search', orgId: null, detail: { query: { q: 'Acme' }, orgIds: [ORG, 'ORG-000002'] } }),
        ],
        nextCursor: null,
      }),
    });
    renderRecord(true);
    const panel = await screen.findByRole('table', { name: 'Who viewed this record' });
    const rows = within(panel).getAllByRole('row').slice(1);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toHaveTextContent('Carol Nguyen');
    expect(rows[0]).toHaveTextContent('Opened the record');
    expect(rows[0]).toHaveTextContent('10.9.8.7');
    expect(rows[1]).toHaveTextContent('Listed in a search');
    expect(rows[1]).toHaveTextContent('“Acme” · 2 listed');
    expect(bridge.inputsOf('customers:access')).toEqual([{ orgId: ORG }]);
  });

  it('is not shown, nor asked for, without showAccess (a CRM)', async () => {
    const bridge = installBridge({ ...record, 'customers:access': () => ({ items: [], nextCursor: null }) });
    renderRecord(false);
    await screen.findByRole('region', { name: 'History of this record' });
    expect(screen.queryByRole('region', { name: 'Who viewed this record' })).not.toBeInTheDocument();
    expect(bridge.inputsOf('customers:access')).toEqual([]);
  });

  it('shows loading, then says when nobody has viewed it', async () => {
    let release: (v: unknown) => void = () => undefined;
    installBridge({ ...record, 'customers:access': () => new Promise((r) => (release = r)) });
    renderRecord(true);
    expect(await screen.findByRole('status', { name: 'Loading who viewed this record' })).toBeInTheDocument();
    release({ items: [], nextCursor: null });
    expect(await screen.findByText('Nobody has viewed this record yet.')).toBeInTheDocument();
  });

  it('says why it could not load, and tries again on request', async () => {
    installBridge({
      ...record,
      'customers:access': (_i, n) => (n === 1 ? fail('unavailable', 'The CIMS API could not be reached.') : { items: [accessEvent(0, { orgId: ORG })], nextCursor: null }),
    });
    const user = userEvent.setup();
    renderRecord(true);
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Could not load who viewed this record');
    await user.click(within(alert).getByRole('button', { name: 'Try again' }));
    expect(await screen.findByRole('table', { name: 'Who viewed this record' })).toBeInTheDocument();
  });

  it('pages to older views, and the list and its button are reachable by keyboard', async () => {
    const bridge = installBridge({
      ...record,
      'customers:access': (i) =>
        i.cursor ? { items: [accessEvent(5, { orgId: ORG, actorName: 'Older Viewer' })], nextCursor: null } : { items: [accessEvent(0, { orgId: ORG })], nextCursor: 'c1' },
    });
    const user = userEvent.setup();
    renderRecord(true);
    const list = await screen.findByRole('region', { name: 'Access events, newest first' });
    const older = screen.getByRole('button', { name: 'Show older views' });
    list.focus();
    expect(list).toHaveFocus();
    await user.tab();
    expect(older).toHaveFocus();
    await user.keyboard('{Enter}');
    expect(await screen.findByText('Older Viewer')).toBeInTheDocument();
    await waitFor(() => expect(bridge.inputsOf('customers:access').at(-1)).toEqual({ orgId: ORG, cursor: 'c1' }));
    expect(screen.queryByRole('button', { name: 'Show older views' })).not.toBeInTheDocument();
  });
});
