// The access review: who was shown which customer's data, when and from where,
// filtered by user, customer and days, with its CSV export.
import { Button, Group, Paper, Text, TextInput } from '@mantine/core';
import { useInfiniteQuery } from '@tanstack/react-query';
import { AccessEventTable } from '../../ui/AccessEventTable';
import { EmptyState, QueryStates } from '../../ui/states';
import { auditQueries, useAccessExport, type AccessFilters } from './api';
import { ExportButton } from './ExportButton';
import { NO_ACCESS_FILTERS, toAccessFilters, useFilterForm, type AccessFilterInputs } from './filters';

export function AccessView() {
  const { inputs, errors, applied, set, apply, clear } = useFilterForm<AccessFilterInputs, AccessFilters>(NO_ACCESS_FILTERS, toAccessFilters);
  const access = useInfiniteQuery(auditQueries.access(applied));
  const exportCsv = useAccessExport();
  const rows = access.data?.pages.flatMap((p) => p.items) ?? [];

  return (
    <>
      <form onSubmit={apply} aria-label="Access filters" noValidate>
        <Group gap="sm" align="flex-start" wrap="nowrap" className="filters">
          <TextInput size="xs" label="User" placeholder="User id" value={inputs.actor} onChange={set('actor')} w={150} />
          <TextInput size="xs" label="Customer" placeholder="ORG-000123" value={inputs.orgId} onChange={set('orgId')} error={errors.orgId} w={150} />
          <TextInput size="xs" type="date" label="From" value={inputs.fromDay} onChange={set('fromDay')} w={140} />
          <TextInput size="xs" type="date" label="To" value={inputs.toDay} onChange={set('toDay')} error={errors.toDay} w={140} />
          <Group gap="xs" className="filter-buttons">
            <Button size="xs" type="submit">
              Apply filters
            </Button>
            <Button size="xs" variant="default" onClick={clear}>
              Clear
            </Button>
            <ExportButton exportCsv={exportCsv} input={applied} what="access events" />
          </Group>
        </Group>
      </form>
      <Paper withBorder radius="sm" className="audit-list" tabIndex={0} role="region" aria-label="Access events">
        <QueryStates
          query={access}
          isEmpty={rows.length === 0}
          loadingLabel="Loading access events"
          errorTitle="Could not load the access log"
          empty={<EmptyState title="No access events match these filters">Widen the date range or clear a filter.</EmptyState>}
        >
          {() => <AccessEventTable events={rows} label="Access events, newest first" acrossCustomers />}
        </QueryStates>
      </Paper>
      <Group justify="space-between">
        <Text size="xs" c="dimmed" role="status">
          {access.isSuccess && `${rows.length.toLocaleString()} access events shown, newest first`}
        </Text>
        {access.hasNextPage && (
          <Button size="xs" variant="default" onClick={() => void access.fetchNextPage()} loading={access.isFetchingNextPage}>
            Load older access events
          </Button>
        )}
      </Group>
    </>
  );
}
