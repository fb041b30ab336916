import { Button, Table, Text } from '@mantine/core';
import { useInfiniteQuery } from '@tanstack/react-query';
import { customerQueries } from '../api/queries';
import { AuditChanges } from '../../../ui/AuditChanges';
import { ACTION_LABELS } from '../../../ui/fields';
import { formatDateTime } from '../../../ui/format';
import { ErrorState, SkeletonRows } from '../../../ui/states';

/** The record's own audit trail, newest first. */
export function RecordHistory({ orgId }: { orgId: string }) {
  const history = useInfiniteQuery(customerQueries.audit(orgId));
  if (history.isPending) return <SkeletonRows rows={3} label="Loading history" />;
  if (history.isError) return <ErrorState title="Could not load the history" error={history.error} onRetry={() => void history.refetch()} />;
  const events = history.data.pages.flatMap((p) => p.items);
  if (events.length === 0) {
    return (
      <Text size="sm" c="dimmed">
        No recorded changes.
      </Text>
    );
  }
  return (
    <>
      <Table striped withTableBorder verticalSpacing={4} fz="xs" aria-label="Record history" className="dense-table">
        <Table.Thead>
          <Table.Tr>
            <Table.Th w={170}>When</Table.Th>
            <Table.Th w={150}>Who</Table.Th>
            <Table.Th w={110}>Action</Table.Th>
            <Table.Th>What changed</Table.Th>
            <Table.Th>Why</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {events.map((e) => (
            <Table.Tr key={e.id}>
              <Table.Td>{formatDateTime(e.occurredAt)}</Table.Td>
              <Table.Td>{e.actorName}</Table.Td>
              <Table.Td>{ACTION_LABELS[e.action]}</Table.Td>
              <Table.Td>
                <AuditChanges changes={e.changes} />
              </Table.Td>
              <Table.Td>{e.reason ?? <span className="dim">—</span>}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {history.hasNextPage && (
        <Button size="xs" variant="default" mt="xs" onClick={() => void history.fetchNextPage()} loading={history.isFetchingNextPage}>
          Show older changes
        </Button>
      )}
    </>
  );
}
