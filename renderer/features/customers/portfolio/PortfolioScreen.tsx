import { Group, Paper, Text, Title } from '@mantine/core';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useMemo, type ReactNode } from 'react';
import type { CustomerListItem, PortfolioSummary } from '../../../../shared/api';
import { customerQueries, type CustomerListFilters } from '../api/queries';
import { ChurnBadge } from '../../../ui/ChurnBadge';
import { ContactCell, MoneyCell, NumberHeader, OpenCell, RenewalCell } from '../../../ui/cells';
import { EmptyState, QueryStates, type QueryStatus } from '../../../ui/states';
import { columnHelper, VirtualTable } from '../../../ui/VirtualTable';

const MY_PORTFOLIO: CustomerListFilters = { owner: 'me', sort: 'churnRisk', limit: 100 };
const helper = columnHelper<CustomerListItem>();

export interface PortfolioScreenProps {
  userName: string;
  /** Above the counts: how the CRM's recent change requests ended (composed in renderer/app). */
  notice?: ReactNode;
  onOpen: (orgId: string) => void;
}

/** A CRM's own customers, riskiest first: where the day starts. */
export function PortfolioScreen({ userName, notice, onOpen }: PortfolioScreenProps) {
  const list = useInfiniteQuery(customerQueries.list(MY_PORTFOLIO));
  // The counts come from the API: the list holds only the pages loaded so far.
  const summary = useQuery(customerQueries.portfolioSummary());
  const rows = useMemo(() => list.data?.pages.flatMap((p) => p.items) ?? [], [list.data]);

  const columns = useMemo(
    () =>
      helper.columns([
        helper.accessor('churnRisk', { header: 'Churn risk', cell: (i) => <ChurnBadge score={i.getValue()} /> }),
        helper.accessor('orgName', {
          header: 'Organization',
          cell: (i) => <OpenCell label={i.getValue()} onOpen={() => onOpen(i.row.original.orgId)} />,
        }),
        helper.accessor('renewalDate', { header: 'Renewal', cell: (i) => <RenewalCell date={i.getValue()} /> }),
        helper.accessor('contractValueCents', {
          header: () => <NumberHeader label="Value" />,
          cell: (i) => <MoneyCell cents={i.getValue()} currency={i.row.original.currency} />,
        }),
        helper.accessor('contactName', {
          header: 'Contact',
          cell: (i) => <ContactCell name={i.getValue()} reach={i.row.original.contactPhone} />,
        }),
      ]),
    [onOpen],
  );

  return (
    <section className="screen" aria-labelledby="portfolio-title">
      <Group justify="space-between" className="screen-head">
        <Title order={1} size="h3" id="portfolio-title">
          My portfolio
        </Title>
        <Text size="sm" c="dimmed">
          Customers assigned to {userName}, riskiest first
        </Text>
      </Group>
      {notice}
      <SummaryStats query={summary} />
      <div className="table-wrap">
        <QueryStates
          query={list}
          isEmpty={rows.length === 0}
          loadingLabel="Loading your customers"
          errorTitle="Could not load your customers"
          empty={<EmptyState title="No customers assigned to you">When customers are assigned to you, they appear here, riskiest first.</EmptyState>}
        >
          {() => (
            <VirtualTable
              label="My customers by churn risk"
              columns={columns}
              data={rows}
              getRowId={(r) => r.orgId}
              template="110px minmax(200px,2.4fr) 220px 120px minmax(200px,2fr)"
              onOpen={(r) => onOpen(r.orgId)}
              hasNextPage={list.hasNextPage}
              isFetchingNextPage={list.isFetchingNextPage}
              fetchNextPage={() => void list.fetchNextPage()}
            />
          )}
        </QueryStates>
      </div>
    </section>
  );
}

/** The portfolio's counts; nothing while it is empty (the table says so). */
function SummaryStats({ query }: { query: QueryStatus<PortfolioSummary> }) {
  return (
    <div className="stats">
      <QueryStates
        query={query}
        isEmpty={query.data?.customers === 0}
        loadingLabel="Loading the portfolio summary"
        loadingRows={1}
        errorTitle="Could not load the portfolio summary"
        inset={false}
      >
        {(s) => (
          <Group gap="sm" role="group" aria-label="Portfolio summary">
            <Stat label="Customers" value={s.customers.toLocaleString()} />
            <Stat label="High churn risk" value={s.highChurnRisk.toLocaleString()} tone={s.highChurnRisk ? 'danger' : undefined} />
            <Stat
              label="Renewing within 30 days"
              value={s.renewingWithin30Days.toLocaleString()}
              tone={s.renewingWithin30Days ? 'warn' : undefined}
            />
          </Group>
        )}
      </QueryStates>
    </div>
  );
}

function Stat({ label, value, tone }: { label: string; value: string; tone?: 'danger' | 'warn' }) {
  return (
    <Paper withBorder p="xs" px="sm" radius="sm" className="stat">
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text fw={700} size="lg" className={tone ?? undefined}>
        {value}
      </Text>
    </Paper>
  );
}
