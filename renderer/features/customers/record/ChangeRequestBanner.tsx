// The record's banner for its newest change request: a change waiting for
// approval (the record below still shows the current values), or, for its
// maker, how it ended: approved, rejected with the checker's reason, expired,
// or stale, with the offer to send it again on top of the current record.
import { Alert, Button, Group, Stack, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import type { ChangeRequest, CustomerDetail, CustomerFields } from '../../../../shared/api';
import { call } from '../../../bridge/client';
import { describeError } from '../../../bridge/errors';
import { AuditChanges } from '../../../ui/AuditChanges';
import { STATUS_COLORS, STATUS_LABELS } from '../../../ui/ChangeRequestStatus';
import { formatDateTime } from '../../../ui/format';
import { toast } from '../../../ui/toast';
import { useArchiveCustomer, useUnarchiveCustomer, useUpdateCustomer } from '../api/mutations';
import { customerQueries } from '../api/queries';
import { ReasonDialog } from './ReasonDialog';

/** How long the maker is shown how their request ended. */
const OUTCOME_DAYS = 14;

export interface ChangeRequestBannerProps {
  detail: CustomerDetail;
  /** The signed-in person: the maker may withdraw or re-submit. */
  me: string;
  /** Whether re-submitting is offered (the maker may still edit this customer). */
  canResubmit: boolean;
}

export function ChangeRequestBanner({ detail, me, canResubmit }: ChangeRequestBannerProps) {
  const requests = useQuery(customerQueries.changeRequests(detail.customer.orgId));
  const newest = requests.data?.items[0];
  if (requests.isError) {
    return (
      <Alert color="gray" variant="light" role="status">
        Could not check for changes waiting for approval: {describeError(requests.error)}
      </Alert>
    );
  }
  if (!newest) return null;
  const mine = newest.maker.sub === me;
  const recent = newest.decidedAt !== null && Date.now() - Date.parse(newest.decidedAt) < OUTCOME_DAYS * 86_400_000;
  if (newest.status !== 'pending' && !(mine && recent)) return null;
  return <Banner request={newest} detail={detail} mine={mine} canResubmit={canResubmit} />;
}

function Banner({ request: r, detail, mine, canResubmit }: { request: ChangeRequest; detail: CustomerDetail; mine: boolean; canResubmit: boolean }) {
  const [withdrawing, setWithdrawing] = useState(false);
  const resubmit = useResubmit(r, detail);
  const title =
    r.status === 'pending'
      ? `A change waits for approval (request #${r.id})`
      : `Your change request #${r.id}: ${STATUS_LABELS[r.status].toLowerCase()}`;
  return (
    <Alert color={STATUS_COLORS[r.status]} variant="light" title={title} role="status" className="change-banner">
      <Stack gap={6}>
        <Text size="sm">
          {r.kind === 'edit' ? 'Asked' : r.kind === 'archive' ? 'Asked to archive this customer' : 'Asked to bring this customer back'} by {r.maker.name}{' '}
          on {formatDateTime(r.createdAt)}: “{r.reason}”
        </Text>
        {r.kind === 'edit' && <AuditChanges changes={r.changes} />}
        {r.status === 'pending' && (
          <Text size="sm" c="dimmed">
            The record below shows the current values until a support lead other than {mine ? 'you' : r.maker.name} approves the change.
          </Text>
        )}
        {r.checker && (
          <Text size="sm">
            {STATUS_LABELS[r.status]} by {r.checker.name}
            {r.decidedAt ? ` on ${formatDateTime(r.decidedAt)}` : ''}: “{r.checkerReason}”
          </Text>
        )}
        {r.status === 'stale' && (
          <Text size="sm">The record changed before a support lead decided, so nothing was applied. You can send the same change again on top of the current record.</Text>
        )}
        {r.status === 'expired' && <Text size="sm">Nobody decided in time. Send it again if it is still needed.</Text>}
        {mine && (
          <Group gap="xs">
            {r.status === 'pending' && (
              <Button size="compact-sm" variant="default" onClick={() => setWithdrawing(true)}>
                Withdraw request
              </Button>
            )}
            {(r.status === 'stale' || r.status === 'expired') && canResubmit && (
              <Button size="compact-sm" loading={resubmit.isPending} onClick={() => resubmit.mutate()}>
                Send again on top of the current record
              </Button>
            )}
          </Group>
        )}
      </Stack>
      <ReasonDialog
        opened={withdrawing}
        title={`Withdraw change request #${r.id}`}
        confirmLabel="Withdraw request"
        description="The change will not be applied. Recorded in the audit trail with your name."
        onClose={() => setWithdrawing(false)}
        onConfirm={async (reason) => {
          await call('approvals:withdraw', { id: r.id, reason });
          toast('success', 'Withdrawn', `Change request #${r.id} was withdrawn.`);
        }}
        invalidate
      />
    </Alert>
  );
}

/** The same change again at the current version: a new request (or, should no rule apply any more, an edit). */
function useResubmit(r: ChangeRequest, detail: CustomerDetail) {
  const update = useUpdateCustomer();
  const archive = useArchiveCustomer();
  const unarchive = useUnarchiveCustomer();
  const c = detail.customer;
  const run = async () => {
    const base = { orgId: c.orgId, version: c.version, reason: r.reason };
    if (r.kind === 'archive') return archive.mutateAsync(base);
    if (r.kind === 'unarchive') return unarchive.mutateAsync(base);
    const changes = Object.fromEntries(r.changes.map((ch) => [ch.field, ch.after])) as Partial<CustomerFields>;
    return update.mutateAsync({ ...base, changes });
  };
  const [isPending, setPending] = useState(false);
  return {
    isPending,
    mutate: () => {
      setPending(true);
      run()
        .then((out) => toast('success', 'changeRequest' in out ? 'Sent for approval again' : 'Saved', `${c.orgName}: on top of version ${c.version}.`))
        .catch((e: unknown) => toast('error', 'Not sent', describeError(e)))
        .finally(() => setPending(false));
    },
  };
}
