// Approvals (support leads): the queue of change requests, newest first, and the
// request chosen from it: the changes, the customer as it is now beside them,
// its churn risk, and approve or reject with a reason. The buttons are a
// convenience: the API and the database refuse a decision by the maker, or by
// anyone but a support lead, whatever the console shows.
import { Alert, Button, Group, Paper, SegmentedControl, Stack, Table, Text, Textarea, Title, UnstyledButton } from '@mantine/core';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Reason, type ChangeRequest, type ChangeRequestStatus, type Customer, type CustomerDetail, type FieldChange } from '../../../shared/api';
import { describeError } from '../../bridge/errors';
import { KIND_LABELS, requestSummary, STATUS_COLORS, StatusBadge } from '../../ui/ChangeRequestStatus';
import { ChurnBadge } from '../../ui/ChurnBadge';
import { fieldLabel, fieldValueText } from '../../ui/fields';
import { formatDateTime } from '../../ui/format';
import { EmptyState, ErrorState, QueryStates, SkeletonRows } from '../../ui/states';
import { toast } from '../../ui/toast';
import { approvalQueries, useDecision, type Decision, type QueueFilter } from './api';

export interface ApprovalsScreenProps {
  /** The signed-in support lead: their own requests get no decision buttons. */
  me: string;
  onOpenCustomer: (orgId: string) => void;
}

export default function ApprovalsScreen({ me, onOpenCustomer }: ApprovalsScreenProps) {
  const [filter, setFilter] = useState<QueueFilter>('pending');
  const [selected, setSelected] = useState<string | null>(null);
  const queue = useInfiniteQuery(approvalQueries.queue(filter));
  const items = queue.data?.pages.flatMap((p) => p.items) ?? [];
  const current = selected ?? items[0]?.id ?? null;

  return (
    <section className="screen scroll" aria-labelledby="approvals-title">
      <Group justify="space-between" className="screen-head">
        <Title order={1} size="h3" id="approvals-title">
          Approvals
        </Title>
        <SegmentedControl
          size="xs"
          aria-label="Which requests"
          value={filter}
          onChange={(v) => {
            setFilter(v as QueueFilter);
            setSelected(null);
          }}
          data={[
            { value: 'pending', label: 'Waiting' },
            { value: 'stale', label: 'Stale' },
            { value: 'approved', label: 'Approved' },
            { value: 'rejected', label: 'Rejected' },
            { value: 'all', label: 'All' },
          ]}
        />
      </Group>
      <QueryStates
        query={queue}
        loadingLabel="Loading change requests"
        errorTitle="Could not load the change requests"
        isEmpty={items.length === 0}
        empty={
          <EmptyState title={filter === 'pending' ? 'No change waits for approval' : 'No change requests here'}>
            {filter === 'pending'
              ? 'When a relationship manager changes a contract value, a currency or a number of users, or asks to archive a customer, the request appears here.'
              : 'Choose another filter to see other requests.'}
          </EmptyState>
        }
      >
        {() => (
          <div className="approvals">
            <Paper withBorder radius="sm" className="approvals-queue" component="nav" aria-label="Change requests, newest first">
              <ul className="plain-list">
                {items.map((r) => (
                  <li key={r.id}>
                    <UnstyledButton className="queue-item" aria-current={r.id === current ? 'true' : undefined} onClick={() => setSelected(r.id)}>
                      <Group justify="space-between" wrap="nowrap" gap="xs">
                        <Text size="sm" fw={600} className="truncate">
                          {r.orgName}
                        </Text>
                        <StatusBadge status={r.status} />
                      </Group>
                      <Text size="xs" c="dimmed" className="truncate">
                        #{r.id} · {requestSummary(r)} · {r.maker.name} · {formatDateTime(r.createdAt)}
                      </Text>
                    </UnstyledButton>
                  </li>
                ))}
              </ul>
              {queue.hasNextPage && (
                <Button size="xs" variant="subtle" fullWidth loading={queue.isFetchingNextPage} onClick={() => void queue.fetchNextPage()}>
                  Older requests
                </Button>
              )}
            </Paper>
            {current && <RequestDetail key={current} id={current} me={me} onOpenCustomer={onOpenCustomer} />}
          </div>
        )}
      </QueryStates>
    </section>
  );
}

function RequestDetail({ id, me, onOpenCustomer }: { id: string; me: string; onOpenCustomer: (orgId: string) => void }) {
  const request = useQuery(approvalQueries.request(id));
  return (
    <Paper withBorder p="sm" radius="sm" component="section" aria-label={`Change request ${id}`} className="approvals-detail">
      <QueryStates query={request} loadingLabel="Loading the change request" errorTitle="Could not load this change request" inset={false}>
        {(r) => <RequestBody request={r} me={me} onOpenCustomer={onOpenCustomer} />}
      </QueryStates>
    </Paper>
  );
}

function RequestBody({ request: r, me, onOpenCustomer }: { request: ChangeRequest; me: string; onOpenCustomer: (orgId: string) => void }) {
  const record = useQuery(approvalQueries.record(r.orgId));
  return (
    <Stack gap="sm">
      <Group justify="space-between" wrap="nowrap" align="flex-start">
        <div className="minw0">
          <Title order={2} size="h4" className="truncate">
            {r.orgName} <span className="mono dim">{r.orgId}</span>
          </Title>
          <Text size="sm" c="dimmed">
            Request #{r.id} · {KIND_LABELS[r.kind]} · by {r.maker.name} on {formatDateTime(r.createdAt)} · based on version {r.baseVersion}
          </Text>
        </div>
        <Group gap="xs" wrap="nowrap">
          <StatusBadge status={r.status} />
          <Button size="xs" variant="default" className="no-shrink" onClick={() => onOpenCustomer(r.orgId)}>
            Open customer
          </Button>
        </Group>
      </Group>
      <Text size="sm">
        <strong>Reason:</strong> {r.reason}
      </Text>
      {record.isPending ? (
        <SkeletonRows rows={3} label="Loading the current record" />
      ) : record.isError ? (
        <ErrorState title="Could not load the customer as it is now" error={record.error} onRetry={() => void record.refetch()} />
      ) : (
        <Comparison request={r} detail={record.data} />
      )}
      <Outcome request={r} />
      {r.status === 'pending' &&
        (r.maker.sub === me ? (
          <Alert color="gray" variant="light" title="You made this request">
            Another support lead approves or rejects it: nobody checks their own change.
          </Alert>
        ) : (
          <DecisionForm request={r} />
        ))}
    </Stack>
  );
}

/** The value a request's field has in the current record, as the record holds it. */
function currentValue(c: Customer, field: string): FieldChange['after'] {
  const v = (c as Record<string, unknown>)[field];
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : null;
}

function Comparison({ request: r, detail }: { request: ChangeRequest; detail: CustomerDetail }) {
  const c = detail.customer;
  const moved = c.version !== r.baseVersion;
  const churn = detail.predictions.find((p) => p.kind === 'churn_risk');
  return (
    <Stack gap={6}>
      <Table withTableBorder verticalSpacing={4} fz="sm" className="dense-table" aria-label="Requested changes beside the current record">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Field</Table.Th>
            <Table.Th>When requested</Table.Th>
            <Table.Th>Requested</Table.Th>
            <Table.Th>Now</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {r.changes.map((ch) => {
            const now = currentValue(c, ch.field);
            return (
              <Table.Tr key={ch.field}>
                <Table.Td>{fieldLabel(ch.field)}</Table.Td>
                <Table.Td className="before">{fieldValueText(ch.field, ch.before)}</Table.Td>
                <Table.Td className="after">{fieldValueText(ch.field, ch.after)}</Table.Td>
                <Table.Td className={now !== ch.before && r.status === 'pending' ? 'warn' : undefined}>{fieldValueText(ch.field, now)}</Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
      <Group gap="lg">
        <Text size="sm">
          Churn risk: <ChurnBadge score={churn?.score ?? null} />
        </Text>
        <Text size="sm">
          Contract: {fieldValueText('contractValueCents', c.contractValueCents)} {c.currency} · {c.userCount.toLocaleString()} users · owner {c.ownerName}
        </Text>
        <Text size="sm" c="dimmed">
          Record version {c.version}
        </Text>
      </Group>
      {moved && r.status === 'pending' && (
        <Alert color="orange" variant="light" title="The customer changed since this request was made" role="status">
          Approving will not apply it: the request becomes stale and its maker is offered to send it again on top of the current record.
        </Alert>
      )}
    </Stack>
  );
}

function Outcome({ request: r }: { request: ChangeRequest }) {
  if (r.status === 'pending') return null;
  const who = r.checker ? ` by ${r.checker.name}` : '';
  const when = r.decidedAt ? ` on ${formatDateTime(r.decidedAt)}` : '';
  const text: Record<Exclude<ChangeRequestStatus, 'pending'>, string> = {
    approved: `Approved${who}${when}: the change was applied.`,
    rejected: `Rejected${who}${when}.`,
    withdrawn: `Withdrawn by ${r.maker.name}${when}.`,
    expired: `Expired${when}: nobody decided within the time the rules allow.`,
    stale: `Stale${when}: the customer had changed, so nothing was applied. ${r.maker.name} can send it again on top of the current record.`,
  };
  return (
    <Alert color={STATUS_COLORS[r.status]} variant="light" role="status">
      <Text size="sm">{text[r.status]}</Text>
      {r.checkerReason && (
        <Text size="sm">
          <strong>Their reason:</strong> {r.checkerReason}
        </Text>
      )}
    </Alert>
  );
}

function DecisionForm({ request: r }: { request: ChangeRequest }) {
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const decide = useDecision();
  const submit = async (decision: Decision) => {
    const parsed = Reason.safeParse(reason);
    if (!parsed.success) {
      setError(parsed.error.issues[0]?.message ?? 'Say why');
      return;
    }
    setError(null);
    try {
      const out = await decide.mutateAsync({ decision, id: r.id, version: r.version, reason: parsed.data });
      if (out.status === 'stale') toast('info', 'Not applied: the request is stale', `${r.orgName} changed since the request was made. ${r.maker.name} can send it again.`);
      else if (out.status === 'approved') toast('success', 'Approved', `The change to ${r.orgName} is applied.`);
      else toast('success', 'Rejected', `${r.maker.name} sees why the next time the record loads.`);
    } catch (e) {
      toast('error', decision === 'approve' ? 'Not approved' : 'Not rejected', describeError(e));
    }
  };
  return (
    <Stack gap={6}>
      <Textarea
        label="Reason for your decision"
        description="Recorded in the audit trail with your name, and shown to the maker."
        withAsterisk
        autosize
        minRows={2}
        value={reason}
        error={error}
        onChange={(e) => setReason(e.currentTarget.value)}
      />
      <Group justify="flex-end">
        <Button color="red" variant="light" loading={decide.isPending && decide.variables?.decision === 'reject'} disabled={decide.isPending} onClick={() => void submit('reject')}>
          Reject
        </Button>
        <Button loading={decide.isPending && decide.variables?.decision === 'approve'} disabled={decide.isPending} onClick={() => void submit('approve')}>
          Approve and apply
        </Button>
      </Group>
    </Stack>
  );
}
