// Admins: the staff directory (who works with CIMS, their customers, when each
// was last seen) and reassignment, of chosen customers or of all of one person's (a
// CRM who leaves), always through a review step that says exactly what moves.
// "Last seen" is the person's last request (noted at most every 5 minutes), which
// is what the API knows of a sign-in.
// The API and the database check again that the caller is an admin and that the
// new owner is a CRM of the directory.
import { Alert, Badge, Button, Checkbox, Group, Modal, Paper, SegmentedControl, Select, Stack, Table, Text, Textarea, TextInput, Title, VisuallyHidden } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Reason, type AssignmentRequest, type AssignmentResult, type CustomerListItem, type StaffMember } from '../../../shared/api';
import { describeError } from '../../bridge/errors';
import { EmptyState, ErrorState, QueryStates } from '../../ui/states';
import { formatDateTime } from '../../ui/format';
import { toast } from '../../ui/toast';
import { staffQueries, useAssignment } from './api';

const ROLE_LABELS: Record<string, string> = { crm: 'CRM', support_lead: 'support lead', admin: 'admin' };

export function AdminScreen() {
  const staff = useQuery(staffQueries.list());
  const [from, setFrom] = useState<string | null>(null);
  const people = staff.data?.items ?? [];
  return (
    <section className="screen scroll" aria-labelledby="admin-title">
      <Group className="screen-head">
        <Title order={1} size="h3" id="admin-title">
          Staff and assignments
        </Title>
      </Group>
      <Stack gap="md" maw={1100}>
        <Paper withBorder p="md" radius="sm">
          <Title order={2} size="h5" mb="xs">
            Staff
          </Title>
          <QueryStates
            query={staff}
            isEmpty={people.length === 0}
            loadingLabel="Loading staff"
            errorTitle="Could not load the staff directory"
            empty={<EmptyState title="Nobody yet">People appear here after they first sign in to CIMS.</EmptyState>}
          >
            {(data) => <StaffTable people={data.items} onMoveAll={(sub) => setFrom(sub)} />}
          </QueryStates>
        </Paper>
        {staff.data && <Reassign people={people} from={from} onFromChange={setFrom} />}
      </Stack>
    </section>
  );
}
export default AdminScreen;

function StaffTable({ people, onMoveAll }: { people: StaffMember[]; onMoveAll: (sub: string) => void }) {
  return (
    <Table striped withTableBorder verticalSpacing={4} fz="sm" aria-label="Staff" className="dense-table">
      <Table.Thead>
        <Table.Tr>
          <Table.Th>Name</Table.Th>
          <Table.Th>Roles</Table.Th>
          <Table.Th ta="right">Customers</Table.Th>
          <Table.Th ta="right">Archived</Table.Th>
          <Table.Th>Last seen</Table.Th>
          <Table.Th>First seen</Table.Th>
          <Table.Th w={190}>
            <VisuallyHidden>Actions</VisuallyHidden>
          </Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {people.map((p) => (
          <Table.Tr key={p.sub}>
            <Table.Td>
              <div>{p.name}</div>
              <div className="dim mono">{p.sub}</div>
            </Table.Td>
            <Table.Td>
              {p.roles.length === 0 ? (
                <Text size="xs" c="dimmed">
                  not seen since the directory began
                </Text>
              ) : (
                p.roles.map((r) => (
                  <Badge key={r} size="xs" variant="outline" mr={4}>
                    {ROLE_LABELS[r] ?? r}
                  </Badge>
                ))
              )}
            </Table.Td>
            <Table.Td ta="right">{p.customers}</Table.Td>
            <Table.Td ta="right">{p.archivedCustomers}</Table.Td>
            <Table.Td>{p.lastSeenAt ? formatDateTime(p.lastSeenAt) : '—'}</Table.Td>
            <Table.Td>{p.firstSeenAt ? formatDateTime(p.firstSeenAt) : '—'}</Table.Td>
            <Table.Td>
              {p.customers + p.archivedCustomers > 0 && (
                <Button size="compact-xs" variant="default" onClick={() => onMoveAll(p.sub)} aria-label={`Move all customers of ${p.name}`}>
                  Move all customers…
                </Button>
              )}
            </Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

type Mode = 'all' | 'chosen';

interface Review {
  request: AssignmentRequest;
  toName: string;
  /** What the review lists: the chosen customers, or the counts of the person's. */
  chosen: CustomerListItem[];
  fromPerson: StaffMember | null;
}

function Reassign({ people, from, onFromChange }: { people: StaffMember[]; from: string | null; onFromChange: (sub: string | null) => void }) {
  const [mode, setMode] = useState<Mode>('all');
  const [to, setTo] = useState<string | null>(null);
  const [reason, setReason] = useState('');
  const [reasonError, setReasonError] = useState<string | null>(null);
  const [chosen, setChosen] = useState<Map<string, CustomerListItem>>(new Map());
  const [review, setReview] = useState<Review | null>(null);
  const [result, setResult] = useState<{ result: AssignmentResult; what: string } | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const assign = useAssignment();

  const activeMode: Mode = from && mode === 'all' ? 'all' : mode;
  const fromPerson = people.find((p) => p.sub === from) ?? null;
  const owners = people.filter((p) => p.customers + p.archivedCustomers > 0);
  const crms = people.filter((p) => p.roles.includes('crm') && (activeMode === 'chosen' || p.sub !== from));

  const openReview = () => {
    setFailure(null);
    const r = Reason.safeParse(reason);
    setReasonError(r.success ? null : (r.error.issues[0]?.message ?? 'Say why'));
    const target = people.find((p) => p.sub === to);
    if (!r.success || !target) return;
    if (activeMode === 'all') {
      if (!fromPerson) return;
      setReview({ request: { fromOwner: fromPerson.sub, toOwner: target.sub, reason: r.data }, toName: target.name, chosen: [], fromPerson });
    } else {
      if (chosen.size === 0) return;
      setReview({ request: { orgIds: [...chosen.keys()], toOwner: target.sub, reason: r.data }, toName: target.name, chosen: [...chosen.values()], fromPerson: null });
    }
  };

  const confirm = async () => {
    if (!review) return;
    try {
      const r = await assign.mutateAsync(review.request);
      const what = review.fromPerson ? `${review.fromPerson.name}'s customers` : 'The chosen customers';
      setResult({ result: r, what });
      toast('success', 'Customers moved', `${r.moved.length} moved to ${r.toOwner.name}.`);
      setReview(null);
      setChosen(new Map());
      setReason('');
    } catch (e) {
      setReview(null);
      setFailure(describeError(e));
    }
  };

  const canReview = to !== null && (activeMode === 'all' ? fromPerson !== null : chosen.size > 0);

  return (
    <Paper withBorder p="md" radius="sm" component="section" aria-labelledby="reassign-title">
      <Title order={2} size="h5" mb="xs" id="reassign-title">
        Reassign customers
      </Title>
      <Stack gap="sm">
        <SegmentedControl
          aria-label="What to move"
          // Filled: the chosen segment keeps its contrast in the dark theme too.
          color="blue"
          value={activeMode}
          onChange={(v) => setMode(v as Mode)}
          data={[
            { value: 'all', label: 'All customers of one person' },
            { value: 'chosen', label: 'Chosen customers' },
          ]}
          w="fit-content"
        />
        {activeMode === 'all' ? (
          <Select
            label="Move all customers of"
            placeholder="Choose a person"
            data={owners.map((p) => ({ value: p.sub, label: `${p.name} (${p.customers} active, ${p.archivedCustomers} archived)` }))}
            value={from}
            onChange={onFromChange}
            searchable
            maw={420}
          />
        ) : (
          <ChooseCustomers chosen={chosen} onChange={setChosen} />
        )}
        <Select
          label="To relationship manager"
          placeholder="Choose a CRM"
          data={crms.map((p) => ({ value: p.sub, label: `${p.name} (${p.customers} customers now)` }))}
          value={to}
          onChange={setTo}
          searchable
          maw={420}
        />
        <Textarea
          label="Reason"
          description="Recorded on every customer's history with your name."
          withAsterisk
          autosize
          minRows={2}
          maw={620}
          value={reason}
          error={reasonError}
          onChange={(e) => setReason(e.currentTarget.value)}
        />
        {failure && (
          <Alert color="red" variant="light" title="Nothing was moved" role="alert">
            {failure}
          </Alert>
        )}
        {result && <ResultView result={result.result} what={result.what} onClose={() => setResult(null)} />}
        <Group>
          <Button onClick={openReview} disabled={!canReview}>
            Review the move
          </Button>
        </Group>
      </Stack>
      {/* lockScroll off: the scroll lock writes an inline style, which the console's CSP (style-src 'self') refuses. */}
      <Modal opened={review !== null} onClose={() => setReview(null)} title="Review the move" size="lg" centered lockScroll={false} closeButtonProps={{ 'aria-label': 'Back' }}>
        {review && (
          <Stack gap="sm">
            {review.fromPerson ? (
              <Text size="sm">
                Every customer of <b>{review.fromPerson.name}</b> ({review.fromPerson.customers} active, {review.fromPerson.archivedCustomers}{' '}
                archived) moves to <b>{review.toName}</b>, and so does any customer assigned to them before you confirm.
              </Text>
            ) : (
              <>
                <Text size="sm">
                  {review.chosen.length} {review.chosen.length === 1 ? 'customer moves' : 'customers move'} to <b>{review.toName}</b>:
                </Text>
                <Table withTableBorder fz="sm" verticalSpacing={2} aria-label="Customers to move">
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>Customer</Table.Th>
                      <Table.Th>Now assigned to</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {review.chosen.map((c) => (
                      <Table.Tr key={c.orgId}>
                        <Table.Td>
                          {c.orgName} <span className="dim mono">{c.orgId}</span>
                        </Table.Td>
                        <Table.Td>{c.ownerName}</Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              </>
            )}
            <Text size="sm">
              <b>Reason:</b> {review.request.reason}
            </Text>
            <Text size="xs" c="dimmed">
              All of it happens at once or not at all; each customer's history records the move.
            </Text>
            <Group justify="flex-end">
              <Button variant="default" onClick={() => setReview(null)}>
                Back
              </Button>
              <Button onClick={() => void confirm()} loading={assign.isPending}>
                Move customers
              </Button>
            </Group>
          </Stack>
        )}
      </Modal>
    </Paper>
  );
}

function ChooseCustomers({ chosen, onChange }: { chosen: Map<string, CustomerListItem>; onChange: (m: Map<string, CustomerListItem>) => void }) {
  const [q, setQ] = useState('');
  const [debounced] = useDebouncedValue(q, 250);
  const found = useQuery(staffQueries.search(debounced));
  const toggle = (c: CustomerListItem) => {
    const next = new Map(chosen);
    if (next.has(c.orgId)) next.delete(c.orgId);
    else next.set(c.orgId, c);
    onChange(next);
  };
  const items = found.data?.items ?? [];
  return (
    <Stack gap={6}>
      <TextInput
        label="Find customers"
        description="By name, organization id, email or phone."
        value={q}
        onChange={(e) => setQ(e.currentTarget.value)}
        maw={420}
      />
      <Text size="sm" role="status">
        {chosen.size === 0 ? 'No customers chosen.' : `${chosen.size} chosen: ${[...chosen.values()].map((c) => c.orgName).join(', ')}`}
      </Text>
      {debounced.trim().length >= 2 &&
        (found.isError ? (
          <ErrorState title="Could not search customers" error={found.error} onRetry={() => void found.refetch()} />
        ) : found.isPending ? (
          <Text size="sm" c="dimmed">
            Searching…
          </Text>
        ) : items.length === 0 ? (
          <Text size="sm" c="dimmed">
            {found.data?.tooBroad ? 'Too many matches: type more of the name.' : 'No customer matches.'}
          </Text>
        ) : (
          <Table withTableBorder fz="sm" verticalSpacing={2} aria-label="Matching customers">
            <Table.Thead>
              <Table.Tr>
                <Table.Th w={40}>
                  <VisuallyHidden>Chosen</VisuallyHidden>
                </Table.Th>
                <Table.Th>Customer</Table.Th>
                <Table.Th>Assigned to</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {items.map((c) => (
                <Table.Tr key={c.orgId}>
                  <Table.Td>
                    <Checkbox checked={chosen.has(c.orgId)} onChange={() => toggle(c)} aria-label={`Choose ${c.orgName}`} />
                  </Table.Td>
                  <Table.Td>
                    {c.orgName} <span className="dim mono">{c.orgId}</span>
                    {c.status === 'archived' && (
                      <Badge size="xs" color="gray" variant="outline" ml={6}>
                        archived
                      </Badge>
                    )}
                  </Table.Td>
                  <Table.Td>{c.ownerName}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        ))}
    </Stack>
  );
}

function ResultView({ result, what, onClose }: { result: AssignmentResult; what: string; onClose: () => void }) {
  return (
    <Alert color="green" variant="light" title={`${what}: ${result.moved.length} moved to ${result.toOwner.name}`} withCloseButton closeButtonLabel="Dismiss" onClose={onClose} role="status">
      <Text size="sm">
        {result.moved.length > 0 ? `Moved: ${result.moved.map((m) => m.orgId).join(', ')}.` : 'Nothing needed to move.'}
        {result.unchanged.length > 0 && ` Already with ${result.toOwner.name}: ${result.unchanged.join(', ')}.`}
      </Text>
    </Alert>
  );
}
