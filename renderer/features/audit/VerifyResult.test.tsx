// "Verify integrity" shows what the API and the console's own check found, as
// they found it. window.cims is a stand-in (renderer/test/standInBridge.ts).
import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { AuditVerifyOutcome } from '../../../shared/ipc';
import { DEMO_KEY_ID, verifyOutcome } from '../../dev/demo';
import { installBridge } from '../../test/standInBridge';
import { renderApp } from '../../test/render';
import { formatDateTime } from '../../ui/format';
import AuditScreen from './AuditScreen';

async function verifyWith(outcome: AuditVerifyOutcome) {
  const bridge = installBridge({ 'audit:events': () => ({ items: [], nextCursor: null }), 'audit:verify': () => outcome });
  renderApp(<AuditScreen />);
  await userEvent.setup().click(await screen.findByRole('button', { name: 'Verify integrity' }));
  const result = await screen.findByRole('group', { name: 'Verification result' });
  expect(bridge.inputsOf('audit:verify')).toHaveLength(1);
  return result;
}

const DAMAGED = /^Audit trail damaged: checkpoint #412 that this console verified on .+ is missing or changed$/;

describe('the verification result', () => {
  it('ok: the counts and the newest checkpoint (number, when signed, key id)', async () => {
    const result = await verifyWith(verifyOutcome());
    expect(within(result).getByText('Audit trail intact')).toBeInTheDocument();
    expect(result).toHaveTextContent(
      `18,342 events and 96,210 access events checked up to checkpoint #412, signed ${formatDateTime('2026-11-21T15:59:00.000Z')} with key ${DEMO_KEY_ID}: none altered, removed or reordered.`,
    );
    expect(result).toHaveTextContent(`This console verified checkpoint #412 on ${formatDateTime('2026-11-21T16:00:04.000Z')}`);
    expect(result).not.toHaveTextContent(/not sealed/);
    expect(within(result).queryByRole('alert')).toBeNull();
  });

  it('says how many recent events are not sealed yet instead of hiding them', async () => {
    const result = await verifyWith(verifyOutcome({ unsealed: 37 }));
    expect(within(result).getByText('37 recent events are not sealed yet')).toBeInTheDocument();
    expect(within(result).getByText('Audit trail intact')).toBeInTheDocument();
  });

  it('counts unsealed access events too, in one sentence', async () => {
    const result = await verifyWith(verifyOutcome({ unsealed: 1, accessUnsealed: 12 }));
    expect(within(result).getByText('1 recent event and 12 access events are not sealed yet')).toBeInTheDocument();
  });

  it('shows the problem, its detail and what it concerns', async () => {
    const result = await verifyWith(
      verifyOutcome({ ok: false, problem: 'truncated', checkpointSeq: 411, chainSeq: '18342', detail: 'Checkpoint #411 covers link 18342; the chain ends at 18300.' }),
    );
    const alert = within(result).getByRole('alert');
    expect(alert).toHaveTextContent('Audit trail damaged');
    expect(alert).toHaveTextContent('The trail ends before a signed checkpoint says it does (events, links or checkpoints were cut off).');
    expect(alert).toHaveTextContent('Concerns chain position #18342, checkpoint #411.');
    expect(alert).toHaveTextContent('Checkpoint #411 covers link 18342; the chain ends at 18300.');
    expect(within(result).queryByText('Audit trail intact')).toBeNull();
  });

  it('names the event a hash mismatch concerns', async () => {
    const result = await verifyWith(verifyOutcome({ ok: false, problem: 'hash_mismatch', firstBadEventId: '4711', detail: 'Event 4711 does not hash to link 90.' }));
    expect(within(result).getByRole('alert')).toHaveTextContent('Concerns event #4711.');
  });

  it('a checkpoint this console verified that is gone: the most prominent message, even when the API says ok', async () => {
    const result = await verifyWith(
      verifyOutcome({ checkpoint: { seq: 3, signedAt: '2026-11-21T16:10:00.000Z', keyId: DEMO_KEY_ID } }, {
        status: 'damaged',
        reason: 'missing',
        remembered: { seq: 412, signedAt: '2026-11-21T15:59:00.000Z', keyId: DEMO_KEY_ID, verifiedAt: '2026-11-21T16:00:04.000Z' },
      }),
    );
    const alerts = within(result).getAllByRole('alert');
    expect(alerts).toHaveLength(1);
    // First in the result, before the API's own (passing) check.
    expect(result.firstElementChild).toBe(alerts[0]);
    expect(within(alerts[0]!).getByText(DAMAGED)).toBeInTheDocument();
    expect(alerts[0]).toHaveTextContent(`verified on ${formatDateTime('2026-11-21T16:00:04.000Z')}`);
    expect(alerts[0]).toHaveTextContent('The API no longer has it.');
    expect(within(result).getByText('The API’s own check passed')).toBeInTheDocument();
    expect(within(result).queryByText('Audit trail intact')).toBeNull();
  });

  it('a checkpoint under the same number that changed says so', async () => {
    const result = await verifyWith(
      verifyOutcome({}, { status: 'damaged', reason: 'changed', remembered: { seq: 412, signedAt: '2026-11-21T15:59:00.000Z', keyId: DEMO_KEY_ID, verifiedAt: '2026-11-21T16:00:04.000Z' } }),
    );
    expect(within(result).getByText(DAMAGED)).toBeInTheDocument();
    expect(result).toHaveTextContent('The API now holds a different checkpoint under that number.');
  });

  it('a checkpoint signed by a key not in the policy', async () => {
    const result = await verifyWith(verifyOutcome({}, { status: 'untrusted_key', seq: 412, keyId: 'ab'.repeat(16) }));
    expect(within(result).getByRole('alert')).toHaveTextContent('Audit trail not verified: checkpoint #412 is not signed by a key IT trusts');
    expect(result).toHaveTextContent(`It names key ${'ab'.repeat(16)}`);
    expect(within(result).queryByText('Audit trail intact')).toBeNull();
  });

  it('a signature that does not verify', async () => {
    const result = await verifyWith(verifyOutcome({}, { status: 'bad_signature', seq: 412, keyId: DEMO_KEY_ID }));
    expect(within(result).getByRole('alert')).toHaveTextContent('Audit trail not verified: the signature of checkpoint #412 does not verify');
  });

  it('no keys in the policy: says signatures were not checked, does not pretend', async () => {
    const result = await verifyWith(verifyOutcome({}, { status: 'not_configured' }));
    expect(within(result).getByText('Checkpoint signatures not checked by this console')).toBeInTheDocument();
    expect(result).toHaveTextContent('IT’s policy lists no audit public keys');
    expect(result).not.toHaveTextContent(/This console verified checkpoint/);
  });
});
