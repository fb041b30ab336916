// A review's list under its filters: the paged events in a focusable region,
// their loading, failed and empty states, how many are shown, and older pages.
import { Button, Group, Paper, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import { EmptyState, QueryStates, type QueryStatus } from '../../ui/states';

interface PagedQuery<Item> extends QueryStatus<{ pages: { items: Item[] }[] }> {
  isSuccess: boolean;
  hasNextPage: boolean;
  isFetchingNextPage: boolean;
  fetchNextPage: () => unknown;
}

export function EventList<Item>({
  query,
  label,
  noun,
  loadingLabel,
  errorTitle,
  emptyTitle,
  children,
}: {
  query: PagedQuery<Item>;
  /** The region's name. */
  label: string;
  /** What the events are called in "N … shown" and "Load older …". */
  noun: string;
  loadingLabel: string;
  errorTitle: string;
  emptyTitle: string;
  children: (rows: Item[]) => ReactNode;
}) {
  const rows = query.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <>
      <Paper withBorder radius="sm" className="audit-list" tabIndex={0} role="region" aria-label={label}>
        <QueryStates
          query={query}
          isEmpty={rows.length === 0}
          loadingLabel={loadingLabel}
          errorTitle={errorTitle}
          empty={<EmptyState title={emptyTitle}>Widen the date range or clear a filter.</EmptyState>}
        >
          {() => children(rows)}
        </QueryStates>
      </Paper>
      <Group justify="space-between">
        <Text size="xs" c="dimmed" role="status">
          {query.isSuccess && `${rows.length.toLocaleString()} ${noun} shown, newest first`}
        </Text>
        {query.hasNextPage && (
          <Button size="xs" variant="default" onClick={() => void query.fetchNextPage()} loading={query.isFetchingNextPage}>
            {`Load older ${noun}`}
          </Button>
        )}
      </Group>
    </>
  );
}
