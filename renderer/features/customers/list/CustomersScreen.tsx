import { Button, CloseButton, Group, NumberInput, Select, Switch, Text, TextInput, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useInfiniteQuery } from '@tanstack/react-query';
import { useEffect, useMemo, useRef, useState } from 'react';
import { SEARCH_MAX_MATCHES, type CustomerListItem } from '../../../../shared/api';
import { customerQueries, type CustomerListFilters } from '../api/queries';
import { ChurnBadge } from '../../../ui/ChurnBadge';
import { ContactCell, IdCell, MoneyCell, NumberHeader, OpenCell, RenewalCell, TextCell } from '../../../ui/cells';
import { EmptyState, QueryStates } from '../../../ui/states';
import { columnHelper, VirtualTable } from '../../../ui/VirtualTable';

type Sort = NonNullable<CustomerListFilters['sort']>;
interface FilterState {
  q: string;
  mine: boolean;
  renewalWithinDays: number | '';
  minChurnPercent: number | '';
  sort: Sort;
}
const EMPTY: FilterState = { q: '', mine: false, renewalWithinDays: '', minChurnPercent: '', sort: 'name' };
// Kept for the lifetime of the window so coming back from a record keeps the
// search; per signed-in user, so the next person starts with an empty one.
const remembered = new Map<string, FilterState>();

const SORTS: { value: Sort; label: string }[] = [
  { value: 'name', label: 'Name' },
  { value: 'renewal', label: 'Renewal date' },
  { value: 'churnRisk', label: 'Churn risk' },
];

export function toQuery(f: FilterState, q: string): CustomerListFilters {
  return {
    sort: f.sort,
    limit: 100,
    ...(q.trim() ? { q: q.trim() } : {}),
    ...(f.mine ? { owner: 'me' as const } : {}),
    ...(f.renewalWithinDays !== '' ? { renewalWithinDays: f.renewalWithinDays } : {}),
    ...(f.minChurnPercent !== '' ? { minChurnRisk: f.minChurnPercent / 100 } : {}),
  };
}

const helper = columnHelper<CustomerListItem>();

export interface CustomersScreenProps {
  /** Whose search this is (their `sub`): it is remembered for them alone. */
  searchOwner: string;
  onOpen: (orgId: string) => void;
  onNew?: () => void;
  /** Bumped by the app's Ctrl/Cmd+K shortcut. */
  focusSearchSignal: number;
}

export function CustomersScreen({ searchOwner, onOpen, onNew, focusSearchSignal }: CustomersScreenProps) {
  const [filters, setFilters] = useState<FilterState>(() => remembered.get(searchOwner) ?? EMPTY);
  const [debouncedQ] = useDebouncedValue(filters.q, 250);
  const searchRef = useRef<HTMLInputElement>(null);
  useEffect(() => {
    remembered.set(searchOwner, filters);
  }, [searchOwner, filters]);
  useEffect(() => {
    if (focusSearchSignal > 0) {
      searchRef.current?.focus();
      searchRef.current?.select();
    }
  }, [focusSearchSignal]);

  const query = useMemo(() => toQuery(filters, debouncedQ), [filters, debouncedQ]);
  const list = useInfiniteQuery(customerQueries.list(query));
  const rows = useMemo(() => list.data?.pages.flatMap((p) => p.items) ?? [], [list.data]);
  // The API shows nothing for a search matching too many customers to sort (SEARCH_MAX_MATCHES).
  const tooBroad = list.data?.pages.some((p) => p.tooBroad === true) ?? false;
  const set = <K extends keyof FilterState>(key: K, value: FilterState[K]) => setFilters((f) => ({ ...f, [key]: value }));
  const filtered = filters.q.trim() !== '' || filters.mine || filters.renewalWithinDays !== '' || filters.minChurnPercent !== '';

  const columns = useMemo(
    () =>
      helper.columns([
        helper.accessor('orgName', {
          header: 'Organization',
          cell: (info) => <OpenCell label={info.getValue()} onOpen={() => onOpen(info.row.original.orgId)} />,
        }),
        helper.accessor('orgId', { header: 'Org ID', cell: (info) => <IdCell id={info.getValue()} /> }),
        helper.accessor('contactName', {
          header: 'Contact',
          cell: (info) => <ContactCell name={info.getValue()} reach={info.row.original.contactEmail} />,
        }),
        helper.accessor('renewalDate', { header: 'Renewal', cell: (info) => <RenewalCell date={info.getValue()} compact /> }),
        helper.accessor('contractValueCents', {
          header: () => <NumberHeader label="Value" />,
          cell: (info) => <MoneyCell cents={info.getValue()} currency={info.row.original.currency} />,
        }),
        helper.accessor('ownerName', { header: 'Owner', cell: (info) => <TextCell text={info.getValue()} /> }),
        helper.accessor('churnRisk', { header: 'Churn risk', cell: (info) => <ChurnBadge score={info.getValue()} /> }),
      ]),
    [onOpen],
  );

  return (
    <section className="screen" aria-labelledby="customers-title">
      <Group justify="space-between" className="screen-head">
        <Title order={1} id="customers-title" size="h3">
          Customers
        </Title>
        {onNew && (
          <Button size="xs" onClick={onNew}>
            New customer
          </Button>
        )}
      </Group>
      <Group gap="sm" align="flex-end" className="filters" wrap="nowrap">
        <TextInput
          ref={searchRef}
          className="grow"
          size="xs"
          label="Search"
          placeholder="Organization, org ID, contact email or phone"
          value={filters.q}
          onChange={(e) => set('q', e.currentTarget.value)}
          rightSection={
            filters.q ? <CloseButton size="sm" aria-label="Clear search" onClick={() => set('q', '')} /> : <kbd className="kbd">Ctrl K</kbd>
          }
          rightSectionWidth={filters.q ? undefined : 56}
        />
        <Switch size="xs" label="My customers" checked={filters.mine} onChange={(e) => set('mine', e.currentTarget.checked)} className="switch-filter" />
        <NumberInput
          size="xs"
          w={150}
          label="Renewal within (days)"
          placeholder="Any"
          min={0}
          max={3650}
          allowDecimal={false}
          value={filters.renewalWithinDays}
          onChange={(v) => set('renewalWithinDays', typeof v === 'number' ? v : '')}
        />
        <NumberInput
          size="xs"
          w={140}
          label="Churn risk at least (%)"
          placeholder="Any"
          min={0}
          max={100}
          allowDecimal={false}
          value={filters.minChurnPercent}
          onChange={(v) => set('minChurnPercent', typeof v === 'number' ? v : '')}
        />
        <Select
          size="xs"
          w={140}
          label="Sort by"
          data={SORTS}
          value={filters.sort}
          allowDeselect={false}
          onChange={(v) => v && set('sort', v as Sort)}
        />
      </Group>
      <div className="table-wrap">
        <QueryStates
          query={list}
          isEmpty={rows.length === 0}
          loadingLabel="Loading customers"
          errorTitle="Could not load customers"
          empty={
            tooBroad ? (
              <EmptyState title="Search too broad">
                {`More than ${SEARCH_MAX_MATCHES.toLocaleString('en-US')} customers match. Add more characters to the search, or a filter, to narrow it.`}
              </EmptyState>
            ) : (
              <EmptyState
                title={filtered ? 'No customers match' : 'No customers yet'}
                action={
                  filtered ? (
                    <Button size="xs" variant="default" onClick={() => setFilters({ ...EMPTY, sort: filters.sort })}>
                      Clear search and filters
                    </Button>
                  ) : undefined
                }
              >
                {filtered ? 'Try a shorter search, or another organization id, email or phone.' : 'Customers you can see will appear here.'}
              </EmptyState>
            )
          }
        >
          {() => (
            <VirtualTable
              label="Customers"
              columns={columns}
              data={rows}
              getRowId={(r) => r.orgId}
              template="minmax(160px,2fr) 104px minmax(170px,2.2fr) 150px 104px minmax(90px,1fr) 104px"
              onOpen={(r) => onOpen(r.orgId)}
              hasNextPage={list.hasNextPage}
              isFetchingNextPage={list.isFetchingNextPage}
              fetchNextPage={() => void list.fetchNextPage()}
            />
          )}
        </QueryStates>
      </div>
      <Text size="xs" c="dimmed" className="screen-foot" role="status">
        {list.isSuccess && rows.length > 0 && `${rows.length.toLocaleString()} loaded${list.hasNextPage ? ', more as you scroll' : ''}`}
        {list.isFetching && !list.isPending ? ' · updating…' : ''}
      </Text>
    </section>
  );
}
