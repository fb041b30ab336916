import { Button, Text } from '@mantine/core';
import { useInfiniteQuery } from '@tanstack/react-query';
import { AuditEventTable } from '../../../ui/AuditEventTable';
import { QueryStates } from '../../../ui/states';
import { customerQueries } from '../api/queries';

/** The record's own audit trail, newest first. */
export function RecordHistory({ orgId }: { orgId: string }) {
  const history = useInfiniteQuery(customerQueries.audit(orgId));
  const events = history.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <QueryStates
      query={history}
      isEmpty={events.length === 0}
      loadingLabel="Loading history"
      loadingRows={3}
      errorTitle="Could not load the history"
      inset={false}
      empty={
        <Text size="sm" c="dimmed">
          No recorded changes.
        </Text>
      }
    >
      {() => (
        <>
          <AuditEventTable events={events} label="Record history" />
          {history.hasNextPage && (
            <Button size="xs" variant="default" mt="xs" onClick={() => void history.fetchNextPage()} loading={history.isFetchingNextPage}>
              Show older changes
            </Button>
          )}
        </>
      )}
    </QueryStates>
  );
}
