import { Button, Text } from '@mantine/core';
import { useInfiniteQuery } from '@tanstack/react-query';
import { AccessEventTable } from '../../../ui/AccessEventTable';
import { QueryStates } from '../../../ui/states';
import { customerQueries } from '../api/queries';

/** Who viewed this record: its reads and the searches that listed it, newest first (support leads). */
export function RecordAccess({ orgId }: { orgId: string }) {
  const access = useInfiniteQuery(customerQueries.access(orgId));
  const events = access.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <QueryStates
      query={access}
      isEmpty={events.length === 0}
      loadingLabel="Loading who viewed this record"
      loadingRows={3}
      errorTitle="Could not load who viewed this record"
      inset={false}
      empty={
        <Text size="sm" c="dimmed">
          Nobody has viewed this record yet.
        </Text>
      }
    >
      {() => (
        <>
          {/* Scrolls inside the card; focusable so the keyboard can scroll it too. */}
          <div className="access-scroll" tabIndex={0} role="region" aria-label="Access events, newest first">
            <AccessEventTable events={events} label="Who viewed this record" />
          </div>
          {access.hasNextPage && (
            <Button size="xs" variant="default" mt="xs" onClick={() => void access.fetchNextPage()} loading={access.isFetchingNextPage}>
              Show older views
            </Button>
          )}
        </>
      )}
    </QueryStates>
  );
}
