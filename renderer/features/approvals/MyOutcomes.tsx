// "Your change requests": where the portfolio or the customer list loads, the
// maker sees how their recent requests ended (approved, rejected, stale or
// expired, with the checker's reason) and can open each record. The record's own
// banner says the same; this is for the maker who does not open that record
// again. Dismissing hides the outcomes shown until a newer one arrives (for as
// long as the app window is open, like drafts).
import { Alert, Anchor, Button, Group, List, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import type { ChangeRequest } from '../../../shared/api';
import { describeError } from '../../bridge/errors';
import { KIND_LABELS, StatusBadge } from '../../ui/ChangeRequestStatus';
import { formatDateTime } from '../../ui/format';
import { approvalQueries } from './api';

/** How long an outcome is shown: as long as the record's banner shows it. */
export const OUTCOME_DAYS = 14;
const OUTCOMES: ReadonlySet<ChangeRequest['status']> = new Set(['approved', 'rejected', 'stale', 'expired']);
/** At most this many are listed; the Approvals screen or the records hold the rest. */
const SHOWN = 5;

const seenKey = (me: string) => `cims.outcomesSeen.v1.${me}`;

function loadSeen(me: string): string | null {
  try {
    return sessionStorage.getItem(seenKey(me));
  } catch {
    return null;
  }
}

function storeSeen(me: string, decidedAt: string): void {
  try {
    sessionStorage.setItem(seenKey(me), decidedAt);
  } catch {
    // Unavailable storage: the notice is hidden for this view only.
  }
}

/** The signed-in person's requests decided within OUTCOME_DAYS and after `seen`, newest first. */
export function recentOutcomes(items: ChangeRequest[], me: string, seen: string | null, now = Date.now()): ChangeRequest[] {
  return items
    .filter(
      (r) =>
        r.maker.sub === me &&
        OUTCOMES.has(r.status) &&
        r.decidedAt !== null &&
        now - Date.parse(r.decidedAt) < OUTCOME_DAYS * 86_400_000 &&
        (seen === null || Date.parse(r.decidedAt) > Date.parse(seen)),
    )
    .sort((a, b) => Date.parse(b.decidedAt ?? '') - Date.parse(a.decidedAt ?? ''));
}

function outcomeText(r: ChangeRequest): string {
  if (r.status === 'stale') return 'the record changed before a decision, so nothing was applied; open it to send the change again';
  if (r.status === 'expired') return 'nobody decided in time; open it to send the change again if it is still needed';
  const by = r.checker ? ` by ${r.checker.name}` : '';
  return `${r.status}${by}: “${r.checkerReason ?? ''}”`;
}

export interface MyOutcomesProps {
  /** The signed-in person's subject: only the requests they made are shown. */
  me: string;
  onOpen: (orgId: string) => void;
}

export function MyOutcomes({ me, onOpen }: MyOutcomesProps) {
  const query = useQuery(approvalQueries.recent());
  const [seen, setSeen] = useState(() => loadSeen(me));
  // Loading: nothing yet, so the screen below does not jump when the notice is empty.
  if (query.isPending) return null;
  if (query.isError) {
    return (
      <Alert color="gray" variant="light" role="status" className="outcomes">
        <Group gap="xs">
          <Text size="sm">Could not check how your change requests ended: {describeError(query.error)}</Text>
          <Button size="compact-xs" variant="default" onClick={() => void query.refetch()}>
            Retry
          </Button>
        </Group>
      </Alert>
    );
  }
  const outcomes = recentOutcomes(query.data.items, me, seen);
  if (outcomes.length === 0) return null;
  const dismiss = () => {
    const newest = outcomes[0]?.decidedAt;
    if (newest) {
      storeSeen(me, newest);
      setSeen(newest);
    }
  };
  return (
    <Alert
      color="blue"
      variant="light"
      role="region"
      title="Your change requests"
      className="outcomes"
      withCloseButton
      closeButtonLabel="Dismiss these outcomes"
      onClose={dismiss}
    >
      <List size="sm" spacing={4} listStyleType="none" aria-label="How your recent change requests ended">
        {outcomes.slice(0, SHOWN).map((r) => (
          <List.Item key={r.id}>
            <Group gap={6} wrap="nowrap" align="baseline">
              <StatusBadge status={r.status} />
              <Text size="sm" span>
                {/* The notice's own text colour, underlined: link blue on the light blue notice is too faint. */}
                <Anchor component="button" type="button" size="sm" c="inherit" fw={600} underline="always" onClick={() => onOpen(r.orgId)}>
                  {r.orgName}
                </Anchor>{' '}
                #{r.id} ({KIND_LABELS[r.kind].toLowerCase()}, {r.decidedAt ? formatDateTime(r.decidedAt) : ''}): {outcomeText(r)}
              </Text>
            </Group>
          </List.Item>
        ))}
      </List>
      {outcomes.length > SHOWN && (
        <Text size="xs" c="dimmed" mt={4}>
          and {outcomes.length - SHOWN} more; each record shows its own.
        </Text>
      )}
    </Alert>
  );
}
