import { Alert, Button, Group, Skeleton, Stack, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import { describeError } from '../bridge/errors';

export function ErrorState({ error, onRetry, title = 'Could not load this' }: { error: unknown; onRetry?: () => void; title?: string }) {
  return (
    <Alert color="red" variant="light" title={title} role="alert">
      <Stack gap="xs" align="flex-start">
        <Text size="sm">{describeError(error)}</Text>
        {onRetry && (
          <Button size="xs" variant="default" onClick={onRetry}>
            Try again
          </Button>
        )}
      </Stack>
    </Alert>
  );
}

export function EmptyState({ title, children, action }: { title: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <Stack align="center" gap={6} py="xl" className="empty-state" role="status">
      <Text fw={600}>{title}</Text>
      {children && (
        <Text size="sm" c="dimmed" ta="center" maw={420}>
          {children}
        </Text>
      )}
      {action && <Group>{action}</Group>}
    </Stack>
  );
}

export function SkeletonRows({ rows = 8, label = 'Loading' }: { rows?: number; label?: string }) {
  return (
    <Stack gap={8} aria-busy="true" aria-label={label} role="status" p="sm">
      {Array.from({ length: rows }, (_, i) => (
        <Skeleton key={i} height={22} radius="sm" />
      ))}
    </Stack>
  );
}

/** The parts of a React Query result that decide which state to show. */
export interface QueryStatus<Data> {
  data: Data | undefined;
  isPending: boolean;
  isError: boolean;
  error: unknown;
  refetch: () => unknown;
}

/**
 * Loading, failed or empty in place of what a query loads, or the content itself:
 * the one way every screen shows those states. `inset` pads the error inside a table frame.
 */
export function QueryStates<Data>({
  query,
  isEmpty = false,
  loadingLabel,
  loadingRows,
  errorTitle,
  empty,
  inset = true,
  children,
}: {
  query: QueryStatus<Data>;
  isEmpty?: boolean;
  loadingLabel: string;
  loadingRows?: number;
  errorTitle: string;
  empty?: ReactNode;
  inset?: boolean;
  children: (data: Data) => ReactNode;
}) {
  if (query.isPending) return <SkeletonRows rows={loadingRows} label={loadingLabel} />;
  if (query.isError) {
    const error = <ErrorState title={errorTitle} error={query.error} onRetry={() => void query.refetch()} />;
    return inset ? <div className="pad">{error}</div> : error;
  }
  if (isEmpty) return <>{empty}</>;
  // Neither pending nor failed: React Query guarantees the data is there.
  return query.data === undefined ? null : <>{children(query.data)}</>;
}
