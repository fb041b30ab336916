// The access review: who was shown which customer's data, when and from where,
// filtered by user, customer and days, with its CSV export.
import { Button, Group, TextInput } from '@mantine/core';
import { useInfiniteQuery } from '@tanstack/react-query';
import { AccessEventTable } from '../../ui/AccessEventTable';
import { auditQueries, useAccessExport, type AccessFilters } from './api';
import { EventList } from './EventList';
import { ExportButton } from './ExportButton';
import { NO_ACCESS_FILTERS, toAccessFilters, useFilterForm, type AccessFilterInputs } from './filters';

export function AccessView() {
  const { inputs, errors, applied, set, apply, clear } = useFilterForm<AccessFilterInputs, AccessFilters>(NO_ACCESS_FILTERS, toAccessFilters);
  const access = useInfiniteQuery(auditQueries.access(applied));
  const exportCsv = useAccessExport();

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
      <EventList
        query={access}
        label="Access events"
        noun="access events"
        loadingLabel="Loading access events"
        errorTitle="Could not load the access log"
        emptyTitle="No access events match these filters"
      >
        {(rows) => <AccessEventTable events={rows} label="Access events, newest first" acrossCustomers />}
      </EventList>
    </>
  );
}
