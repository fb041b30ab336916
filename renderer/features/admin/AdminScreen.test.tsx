// The admin screen against the stand-in bridge (no main process in jsdom): the
// directory's states, and a move of all of one person's customers that goes
// through the review before anything is sent.
import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { listItem } from '../../dev/demo';
import { fail, installBridge } from '../../test/standInBridge';
import { renderApp } from '../../test/render';
import { AdminScreen } from './AdminScreen';

const seen = '2026-12-01T09:30:00.000Z';
const staff = {
  items: [
    { sub: 'alice', name: 'Alice Martin', roles: ['crm'], firstSeenAt: seen, lastSeenAt: seen, customers: 140, archivedCustomers: 12 },
    { sub: 'bob', name: 'Bob Schneider', roles: ['support_lead'], firstSeenAt: seen, lastSeenAt: seen, customers: 0, archivedCustomers: 0 },
    { sub: 'carol', name: 'Carol Nguyen', roles: ['crm'], firstSeenAt: seen, lastSeenAt: seen, customers: 139, archivedCustomers: 9 },
    { sub: 'gone', name: 'Dana Gone', roles: [], firstSeenAt: null, lastSeenAt: null, customers: 3, archivedCustomers: 0 },
  ],
};

describe('admin screen', () => {
  it('lists staff with counts and when last seen; moving all of one person’s customers is reviewed, then sent once', async () => {
    const bridge = installBridge({
      'staff:list': () => staff,
      'assignments:apply': () => ({ toOwner: { sub: 'alice', name: 'Alice Martin' }, moved: [{ orgId: 'ORG-000002', fromOwnerSub: 'carol', version: 4 }], unchanged: [] }),
    });
    const user = userEvent.setup();
    renderApp(<AdminScreen />);
    const table = await screen.findByRole('table', { name: 'Staff' });
    const carol = within(table).getByText('Carol Nguyen').closest('tr')!;
    expect(carol).toHaveTextContent('139');
    expect(within(table).getByText('Dana Gone').closest('tr')).toHaveTextContent('not seen since the directory began');
    // Nobody without customers gets a move button.
    expect(within(table).queryByRole('button', { name: 'Move all customers of Bob Schneider' })).toBeNull();

    await user.click(within(carol).getByRole('button', { name: 'Move all customers of Carol Nguyen' }));
    await user.click(screen.getByRole('combobox', { name: 'To relationship manager' }));
    // Only CRMs, and not the person whose customers move.
    const options = await screen.findAllByRole('option');
    expect(options.map((o) => o.textContent)).toEqual(['Alice Martin (140 customers now)']);
    await user.click(options[0]!);
    await user.type(screen.getByRole('textbox', { name: /Reason/ }), 'Carol leaves');
    await user.click(screen.getByRole('button', { name: 'Review the move' }));
    const review = await screen.findByRole('dialog', { name: 'Review the move' });
    expect(review).toHaveTextContent('Every customer of Carol Nguyen (139 active, 9 archived)');
    expect(bridge.inputsOf('assignments:apply')).toEqual([]);
    await user.click(within(review).getByRole('button', { name: 'Move customers' }));
    expect(await screen.findByText("Carol Nguyen's customers: 1 moved to Alice Martin")).toBeInTheDocument();
    expect(bridge.inputsOf('assignments:apply')).toEqual([{ fromOwner: 'carol', toOwner: 'alice', reason: 'Carol leaves' }]);
  });

  it('moves one chosen customer: found by search, listed with its current owner in the review, sent by org id', async () => {
    const bridge = installBridge({
      'staff:list': () => staff,
      'customers:list': () => ({ items: [listItem(3), listItem(4)], nextCursor: null }),
      'assignments:apply': (i) => ({
        toOwner: { sub: 'alice', name: 'Alice Martin' },
        moved: 'orgIds' in i ? i.orgIds.map((orgId) => ({ orgId, fromOwnerSub: 'carol', version: 2 })) : [],
        unchanged: [],
      }),
    });
    const user = userEvent.setup();
    renderApp(<AdminScreen />);
    await screen.findByRole('table', { name: 'Staff' });
    await user.click(screen.getByRole('radio', { name: 'Chosen customers' }));
    await user.type(screen.getByRole('textbox', { name: /Find customers/ }), 'Acme');
    const found = await screen.findByRole('table', { name: 'Matching customers' });
    const first = listItem(3);
    await user.click(within(found).getByRole('checkbox', { name: `Choose ${first.orgName}` }));
    expect(screen.getByText(`1 chosen: ${first.orgName}`)).toBeInTheDocument();
    await user.click(screen.getByRole('combobox', { name: 'To relationship manager' }));
    // Chosen customers may go to any CRM of the directory.
    expect((await screen.findAllByRole('option')).map((o) => o.textContent)).toEqual(['Alice Martin (140 customers now)', 'Carol Nguyen (139 customers now)']);
    await user.click(screen.getByRole('option', { name: /Alice Martin/ }));
    await user.type(screen.getByRole('textbox', { name: /Reason/ }), 'Territory change');
    await user.click(screen.getByRole('button', { name: 'Review the move' }));
    const review = await screen.findByRole('dialog', { name: 'Review the move' });
    const rows = within(within(review).getByRole('table', { name: 'Customers to move' })).getAllByRole('row');
    expect(rows).toHaveLength(2);
    expect(rows[1]).toHaveTextContent(`${first.orgName} ${first.orgId}Carol Nguyen`);
    await user.click(within(review).getByRole('button', { name: 'Move customers' }));
    expect(await screen.findByText('The chosen customers: 1 moved to Alice Martin')).toBeInTheDocument();
    expect(bridge.inputsOf('assignments:apply')).toEqual([{ orgIds: [first.orgId], toOwner: 'alice', reason: 'Territory change' }]);
  });

  it('says when the directory cannot be loaded, and offers to try again', async () => {
    installBridge({ 'staff:list': () => fail('unavailable', 'The CIMS service cannot be reached.') });
    renderApp(<AdminScreen />);
    expect(await screen.findByText('Could not load the staff directory')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Try again' })).toBeInTheDocument();
  });

  it('tells the admin nothing moved when the API refuses', async () => {
    installBridge({
      'staff:list': () => staff,
      'assignments:apply': () => fail('validation', 'the new owner must be a relationship manager in the staff directory'),
    });
    const user = userEvent.setup();
    renderApp(<AdminScreen />);
    const table = await screen.findByRole('table', { name: 'Staff' });
    await user.click(within(table).getByRole('button', { name: 'Move all customers of Alice Martin' }));
    await user.click(screen.getByRole('combobox', { name: 'To relationship manager' }));
    await user.click(await screen.findByRole('option', { name: /Carol Nguyen/ }));
    await user.type(screen.getByRole('textbox', { name: /Reason/ }), 'Rebalance');
    await user.click(screen.getByRole('button', { name: 'Review the move' }));
    await user.click(within(await screen.findByRole('dialog', { name: 'Review the move' })).getByRole('button', { name: 'Move customers' }));
    const alert = (await screen.findByText('Nothing was moved')).closest('[role="alert"]');
    expect(alert).toHaveTextContent('relationship manager in the staff directory');
  });
});
