// Opening a record: the record, its usage and its history are asked for at once,
// and the record shows as soon as it arrives, whatever the others are doing.
// window.cims is a stand-in (renderer/test/standInBridge.ts).
import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { auditEvent, detail } from '../../../dev/demo';
import { installBridge, recordAnswers } from '../../../test/standInBridge';
import { renderApp } from '../../../test/render';
import { CustomerScreen } from './CustomerScreen';

const ORG = 'ORG-000001';
const renderRecord = () => renderApp(<CustomerScreen orgId={ORG} canEdit={() => false} onEdit={() => undefined} onBack={() => undefined} />);
const never = () => new Promise<never>(() => undefined);
// The first render of a record is CPU-bound (0.7 s on half a core, seconds on a busy machine): wait as long, end when it shows.
const WAIT = { timeout: 20_000 };

describe('opening a record', () => {
  it('asks for usage and history together with the record, not after it', async () => {
    let answer: (v: unknown) => void = () => undefined;
    const bridge = installBridge({ ...recordAnswers(ORG), 'customers:get': () => new Promise((r) => (answer = r)) });
    renderRecord();
    // The record has not answered yet.
    await waitFor(() => expect(bridge.inputsOf('customers:usage')).toHaveLength(1), WAIT);
    expect(bridge.inputsOf('customers:audit')).toEqual([{ orgId: ORG }]);
    expect(bridge.inputsOf('customers:get')).toEqual([{ orgId: ORG }]);
    answer(detail(ORG));
    expect(await screen.findByRole('region', { name: 'Contact' }, WAIT)).toBeInTheDocument();
    // Each asked once: the cards use what was started for them.
    expect(bridge.inputsOf('customers:usage')).toHaveLength(1);
    expect(bridge.inputsOf('customers:audit')).toHaveLength(1);
  });

  it('shows the record while its usage and history are still loading', async () => {
    installBridge({ 'customers:get': () => detail(ORG), 'customers:usage': never, 'customers:audit': never });
    renderRecord();
    const contact = await screen.findByRole('region', { name: 'Contact' }, WAIT);
    expect(within(contact).getByText(detail(ORG).customer.contactName)).toBeInTheDocument();
    expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent(detail(ORG).customer.orgName);
    expect(screen.getByRole('status', { name: 'Loading usage' })).toBeInTheDocument();
    expect(screen.getByRole('status', { name: 'Loading history' })).toBeInTheDocument();
  });

  it('shows the history when it arrives after the record', async () => {
    let answer: (v: unknown) => void = () => undefined;
    installBridge({ ...recordAnswers(ORG), 'customers:audit': () => new Promise((r) => (answer = r)) });
    renderRecord();
    await screen.findByRole('region', { name: 'Contact' }, WAIT);
    answer({ items: [auditEvent(0, { entityId: ORG })], nextCursor: null });
    expect(await screen.findByRole('table', { name: 'Record history' }, WAIT)).toBeInTheDocument();
  });
});
