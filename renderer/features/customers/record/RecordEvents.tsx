// A record card's paged events (its history, who viewed it): loading, failed and
// empty states inside the card, newest first, and a button for older pages.
import { Button, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import { QueryStates, type QueryStatus } from '../../../ui/states';

interface PagedQuery<Item> extends QueryStatus<{ pages: { items: Item[] }[] }> {
  hasNextPage: boolean;
  isFetchingNextPage: boolean;
  fetchNextPage: () => unknown;
}

export function RecordEvents<Item>({
  query,
  loadingLabel,
  errorTitle,
  empty,
  older,
  children,
}: {
  query: PagedQuery<Item>;
  loadingLabel: string;
  errorTitle: string;
  /** What the card says when there are none. */
  empty: string;
  /** The label of the button for older pages. */
  older: string;
  children: (events: Item[]) => ReactNode;
}) {
  const events = query.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <QueryStates
      query={query}
      isEmpty={events.length === 0}
      loadingLabel={loadingLabel}
      loadingRows={3}
      errorTitle={errorTitle}
      inset={false}
      empty={
        <Text size="sm" c="dimmed">
          {empty}
        </Text>
      }
    >
      {() => (
        <>
          {children(events)}
          {query.hasNextPage && (
            <Button size="xs" variant="default" mt="xs" onClick={() => void query.fetchNextPage()} loading={query.isFetchingNextPage}>
              {older}
            </Button>
          )}
        </>
      )}
    </QueryStates>
  );
}
