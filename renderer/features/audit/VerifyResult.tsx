// The answer to "Verify integrity", as it is: what the console itself found
// about the signed checkpoints (first: it can contradict the API), what the
// API's verification found, what is not sealed yet, and whether signatures
// were checked at all.
import { Alert, Code, Stack, Text } from '@mantine/core';
import type { AuditProblem, AuditVerifyResult } from '../../../shared/api';
import type { AuditVerifyOutcome, AuditWitnessReport } from '../../../shared/ipc';
import { formatDateTime } from '../../ui/format';

const PROBLEM_TEXT: Record<AuditProblem, string> = {
  truncated: 'the trail ends before a signed checkpoint says it does (events, links or checkpoints were cut off)',
  hash_mismatch: 'an event does not match its recorded fingerprint (it was altered, or two were swapped)',
  chain_break: 'an event does not link to the one before it (the order was changed or one was inserted)',
  missing_event: 'an event is missing from the chain (one was removed)',
  checkpoint_mismatch: 'the trail differs from what a signed checkpoint or the copy kept outside the database says',
  bad_signature: 'a checkpoint’s signature does not verify with a trusted key',
  stale_checkpoint: 'the newest checkpoint is too old although the trail has grown since (sealing has stopped)',
  access_log_mismatch: 'the access log is not as its checkpoints say (access events were removed or changed)',
};

const WITNESS_REASON = {
  missing: 'The API no longer has it.',
  changed: 'The API now holds a different checkpoint under that number.',
  rolled_back: 'The trail’s newest checkpoint is older than that one: the trail was cut back.',
} as const;

const n = (count: number) => count.toLocaleString();
const plural = (count: number, one: string, many: string) => `${n(count)} ${count === 1 ? one : many}`;

/** What the console's own check found; null when it found nothing wrong. The most prominent message on the screen. */
function WitnessAlert({ witness, onClose }: { witness: AuditWitnessReport; onClose: () => void }) {
  // red.9: white text on it keeps its contrast in both themes.
  const common = { color: 'red.9', variant: 'filled', withCloseButton: true, closeButtonLabel: 'Dismiss', onClose, role: 'alert', className: 'verify-alarm' } as const;
  switch (witness.status) {
    case 'damaged': {
      const { seq, verifiedAt, signedAt } = witness.remembered;
      return (
        <Alert {...common} title={`Audit trail damaged: checkpoint #${seq} that this console verified on ${formatDateTime(verifiedAt)} is missing or changed`}>
          {WITNESS_REASON[witness.reason]} It was signed on {formatDateTime(signedAt)}. Events may have been removed behind the API’s back, whatever the API’s own check
          says below. Report this to security.
        </Alert>
      );
    }
    case 'untrusted_key':
      return (
        <Alert {...common} title={`Audit trail not verified: checkpoint #${witness.seq} is not signed by a key IT trusts`}>
          It names key <Code>{witness.keyId}</Code>, which is not in this console’s policy. Report this to security and IT.
        </Alert>
      );
    case 'bad_signature':
      return (
        <Alert {...common} title={`Audit trail not verified: the signature of checkpoint #${witness.seq} does not verify`}>
          The checkpoint is not the one its key <Code>{witness.keyId}</Code> signed. Report this to security.
        </Alert>
      );
    default:
      return null;
  }
}

function concerns(result: Extract<AuditVerifyResult, { ok: false }>): string | null {
  const parts = [
    result.firstBadEventId && `event #${result.firstBadEventId}`,
    result.chainSeq && `chain position #${result.chainSeq}`,
    result.checkpointSeq && `checkpoint #${result.checkpointSeq}`,
    result.accessEventId && `access event #${result.accessEventId}`,
  ].filter(Boolean);
  return parts.length ? `Concerns ${parts.join(', ')}.` : null;
}

function Checked({ result }: { result: AuditVerifyResult }) {
  const cp = result.checkpoint;
  return (
    <>
      {plural(result.checked, 'event', 'events')} and {plural(result.accessChecked, 'access event', 'access events')} checked
      {cp ? (
        <>
          {' '}
          up to checkpoint #{cp.seq}, signed {formatDateTime(cp.signedAt)} with key <Code>{cp.keyId}</Code>
        </>
      ) : (
        ', no signed checkpoint yet'
      )}
    </>
  );
}

export function VerifyResult({ outcome, onClose }: { outcome: AuditVerifyOutcome; onClose: () => void }) {
  const { trail, witness } = outcome;
  const witnessFound = witness.status === 'damaged' || witness.status === 'untrusted_key' || witness.status === 'bad_signature';
  const unsealed = [trail.unsealed > 0 && plural(trail.unsealed, 'recent event', 'recent events'), trail.accessUnsealed > 0 && plural(trail.accessUnsealed, 'access event', 'access events')].filter(Boolean);
  const unsealedVerb = unsealed.length > 1 || trail.unsealed > 1 || trail.accessUnsealed > 1 ? 'are' : 'is';
  return (
    <Stack gap="xs" className="verify-result" aria-label="Verification result" role="group">
      <WitnessAlert witness={witness} onClose={onClose} />
      {trail.ok ? (
        witnessFound ? (
          // The API's check passed on the trail as it is now; the console's memory says that is not enough.
          <Alert color="gray" variant="light" title="The API’s own check passed" role="status">
            On the trail as it is now: <Checked result={trail} />.
          </Alert>
        ) : (
          <Alert color="teal" variant="light" title="Audit trail intact" withCloseButton closeButtonLabel="Dismiss" onClose={onClose} role="status">
            <Checked result={trail} />: none altered, removed or reordered.
          </Alert>
        )
      ) : (
        <Alert
          title="Audit trail damaged"
          {...(witnessFound ? { color: 'red', variant: 'light' } : { color: 'red.9', variant: 'filled', className: 'verify-alarm', withCloseButton: true, closeButtonLabel: 'Dismiss', onClose })}
          role="alert"
        >
          <Text inherit>
            {PROBLEM_TEXT[trail.problem][0]?.toUpperCase()}
            {PROBLEM_TEXT[trail.problem].slice(1)}. {concerns(trail)} {trail.detail}
          </Text>
          <Text inherit mt={4}>
            <Checked result={trail} />. Report this to security.
          </Text>
        </Alert>
      )}
      {unsealed.length > 0 && (
        <Alert color="yellow" variant="light" title={`${unsealed.join(' and ')} ${unsealedVerb} not sealed yet`} role="status">
          They are not covered by a signed checkpoint yet, so they were not part of this check. The next checkpoint seals them; verify again in a minute.
        </Alert>
      )}
      {witness.status === 'not_configured' && (
        <Alert color="yellow" variant="light" title="Checkpoint signatures not checked by this console" role="status">
          IT’s policy lists no audit public keys, so this console cannot tell who signed the checkpoints and remembers none of them. Ask IT to add the
          API’s public key (auditPublicKeys).
        </Alert>
      )}
      {witness.status === 'ok' && witness.remembered && (
        <Text size="xs" c="dimmed">
          This console verified checkpoint #{witness.remembered.seq} on {formatDateTime(witness.remembered.verifiedAt)} and checks it is still there at every verification.
        </Text>
      )}
    </Stack>
  );
}
