// Live changes in the renderer: a live:change refetches exactly what it touches,
// the open record says who updated it, and an open edit form warns and offers the
// re-apply view before its save. window.cims is a stand-in (renderer/test/standInBridge.ts).
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { ReactNode } from 'react';
import { describe, expect, it } from 'vitest';
import type { LiveChange } from '../../../../shared/live';
import { detail, listItem, usage } from '../../../dev/demo';
import { installBridge } from '../../../test/standInBridge';
import { renderApp } from '../../../test/render';
import { EditCustomerScreen } from '../edit/EditCustomerScreen';
import { CustomersScreen } from '../list/CustomersScreen';
import { CustomerScreen } from '../record/CustomerScreen';
import { useLiveUpdates } from './live';

const ORG = 'ORG-000001'; // demo record at version 3
const change = (over: Partial<LiveChange> = {}): LiveChange => ({
  id: '41',
  action: 'customer.update',
  type: 'customer',
  entity: ORG,
  version: 4,
  actorSub: 'carol',
  actorName: 'Carol Diaz',
  fields: ['contactPhone'],
  changeRequest: null,
  ...over,
});

function Live({ children }: { children: ReactNode }) {
  useLiveUpdates('alice');
  return <>{children}</>;
}

const record = (versions: { version: number; contactPhone: string }[]) => ({
  'customers:get': (_i: unknown, n: number) => detail(ORG, versions[Math.min(n, versions.length) - 1]),
  'customers:usage': () => usage(90),
  'customers:audit': () => ({ items: [], nextCursor: null }),
  'customers:predictions': () => [],
});

describe('an open record', () => {
  it('updates in place with "Updated by … just now" when someone saves it', async () => {
    const bridge = installBridge(record([{ version: 3, contactPhone: '+1 555 0100' }, { version: 4, contactPhone: '+1 555 0142' }]));
    renderApp(
      <Live>
        <CustomerScreen orgId={ORG} canEdit={() => false} onEdit={() => undefined} onBack={() => undefined} />
      </Live>,
    );
    expect(await screen.findByText('+1 555 0100')).toBeInTheDocument();
    bridge.emit('live:change', change());
    expect(await screen.findByText('+1 555 0142')).toBeInTheDocument();
    expect(screen.getByRole('status', { name: '' })).toHaveTextContent('Updated by Carol Diaz just now · Contact phone');
    expect(bridge.inputsOf('customers:get')).toHaveLength(2);
  });

  it('refetches nothing for another customer, nor for a version it already shows (its own save)', async () => {
    const bridge = installBridge(record([{ version: 3, contactPhone: '+1 555 0100' }]));
    renderApp(
      <Live>
        <CustomerScreen orgId={ORG} canEdit={() => false} onEdit={() => undefined} onBack={() => undefined} />
      </Live>,
    );
    expect(await screen.findByText('+1 555 0100')).toBeInTheDocument();
    const audits = bridge.inputsOf('customers:audit').length;
    bridge.emit('live:change', change({ entity: 'ORG-000002' }));
    bridge.emit('live:change', change({ version: 3 }));
    await new Promise((r) => setTimeout(r, 50));
    expect(bridge.inputsOf('customers:get')).toHaveLength(1);
    expect(bridge.inputsOf('customers:audit')).toHaveLength(audits);
    expect(document.querySelector('[data-live-update]')).toBeNull();
  });
});

describe('an open edit form', () => {
  it('says who changed what while you were editing, and offers the re-apply view before the save', async () => {
    const bridge = installBridge({
      ...record([{ version: 3, contactPhone: '+1 555 0100' }, { version: 4, contactPhone: '+1 555 0142' }]),
      'customers:update': (i) => detail(ORG, { version: 5, contactName: String(i.changes.contactName), contactPhone: '+1 555 0142' }),
    });
    const user = userEvent.setup();
    renderApp(
      <Live>
        <EditCustomerScreen orgId={ORG} draftOwner="alice" onSaved={() => undefined} onCancel={() => undefined} />
      </Live>,
    );
    const name = await screen.findByRole('textbox', { name: /Contact name/ });
    await user.clear(name);
    await user.type(name, 'Barbara Liskov');
    await user.type(screen.getByRole('textbox', { name: /Reason for this change/ }), 'New main contact');

    bridge.emit('live:change', change());
    const warning = await screen.findByRole('alert');
    expect(warning).toHaveTextContent('Carol Diaz changed Contact phone while you were editing');

    // Review goes to their changes first, not to a save that would be refused.
    await user.click(screen.getByRole('button', { name: 'Review changes' }));
    const conflict = await screen.findByRole('alert', { name: /Someone else changed this customer/ });
    expect(within(conflict).getByRole('list', { name: 'Changes by someone else' })).toHaveTextContent('+1 555 0142');
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(bridge.inputsOf('customers:update')).toHaveLength(0);

    await user.click(within(conflict).getByRole('button', { name: 'Re-apply my changes on top' }));
    const dialog = await screen.findByRole('dialog', { name: 'Review changes' });
    await user.click(within(dialog).getByRole('button', { name: /Save/ }));
    await waitFor(() => expect(bridge.inputsOf('customers:update')).toHaveLength(1));
    expect(bridge.inputsOf('customers:update')[0]).toMatchObject({ orgId: ORG, version: 4, changes: { contactName: 'Barbara Liskov' } });
    expect(screen.queryByText(/while you were editing/)).toBeNull();
  });
});

describe('a list', () => {
  it('refetches when a customer it may show changes, with the newest values', async () => {
    const bridge = installBridge({
      'customers:list': (_i, n) => ({ items: [{ ...listItem(1), orgName: n === 1 ? 'Acme Logistics' : 'Acme Freight' }], nextCursor: null }),
    });
    renderApp(
      <Live>
        <CustomersScreen searchOwner="alice" onOpen={() => undefined} focusSearchSignal={0} />
      </Live>,
    );
    expect(await screen.findByText('Acme Logistics')).toBeInTheDocument();
    bridge.emit('live:change', change({ fields: ['orgName'] }));
    expect(await screen.findByText('Acme Freight')).toBeInTheDocument();
    expect(bridge.inputsOf('customers:list')).toHaveLength(2);
  });

  it('refetches once for a burst of changes (a bulk move announces one per customer), not once per change', async () => {
    const bridge = installBridge({
      'customers:list': () => ({ items: [listItem(1)], nextCursor: null }),
    });
    renderApp(
      <Live>
        <CustomersScreen searchOwner="alice" onOpen={() => undefined} focusSearchSignal={0} />
      </Live>,
    );
    expect(await screen.findByText(listItem(1).orgName)).toBeInTheDocument();
    for (let i = 0; i < 200; i += 1) {
      bridge.emit('live:change', change({ id: String(100 + i), entity: `ORG-${String(100 + i).padStart(6, '0')}`, action: 'customer.assign' }));
    }
    await waitFor(() => expect(bridge.inputsOf('customers:list')).toHaveLength(2));
    await new Promise((r) => setTimeout(r, 600));
    expect(bridge.inputsOf('customers:list')).toHaveLength(2);
  });
});
