// Access events as a table, written once for "Who viewed this record" and the
// access review across customers (which adds the customer column).
import { Table } from '@mantine/core';
import type { AccessEvent } from '../../shared/api';
import { ACCESS_KIND_LABELS } from './fields';
import { formatDateTime } from './format';

export interface AccessEventTableProps {
  events: AccessEvent[];
  label: string;
  /** The review across customers: the customer column and a sticky header. */
  acrossCustomers?: boolean;
}

const text = (v: unknown): string | null => (typeof v === 'string' ? v : typeof v === 'number' ? v.toLocaleString() : null);

/** What the event's detail says, in a few words: the search typed, the range read, what an export held. */
export function accessDetailText(e: AccessEvent): string {
  const d = e.detail;
  switch (e.kind) {
    case 'customer.search': {
      const query = d.query && typeof d.query === 'object' ? (d.query as Record<string, unknown>) : {};
      const listed = Array.isArray(d.orgIds) ? d.orgIds.length : 0;
      const q = text(query.q);
      return `${q ? `“${q}”` : 'No search text'} · ${listed.toLocaleString()} listed`;
    }
    case 'customer.usage':
      return `${text(d.from) ?? '?'} to ${text(d.to) ?? '?'}`;
    case 'audit.review':
    case 'audit.export':
    case 'audit.evidence':
      return `${text(d.events) ?? '0'} events${text(d.rows) ? `, ${text(d.rows)} rows` : ''}`;
    case 'customer.read':
      return text(d.via) ? `through ${text(d.via)}` : '';
    default:
      return '';
  }
}

export function AccessEventTable({ events, label, acrossCustomers = false }: AccessEventTableProps) {
  return (
    <Table striped stickyHeader={acrossCustomers} withTableBorder={!acrossCustomers} verticalSpacing={4} fz="xs" aria-label={label} className="dense-table">
      <Table.Thead>
        <Table.Tr>
          <Table.Th w={170}>When</Table.Th>
          <Table.Th w={160}>Who</Table.Th>
          <Table.Th w={170}>What</Table.Th>
          {acrossCustomers && <Table.Th w={110}>Customer</Table.Th>}
          <Table.Th>Detail</Table.Th>
          <Table.Th w={120}>From</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {events.map((e) => (
          <Table.Tr key={e.id}>
            <Table.Td>{formatDateTime(e.occurredAt)}</Table.Td>
            <Table.Td>
              <div>{e.actorName}</div>
              <div className="dim">{e.actorRoles.join(', ') || e.actorSub}</div>
            </Table.Td>
            <Table.Td>{ACCESS_KIND_LABELS[e.kind]}</Table.Td>
            {acrossCustomers && <Table.Td className="mono">{e.orgId ?? <span className="dim">several</span>}</Table.Td>}
            <Table.Td>{accessDetailText(e) || <span className="dim">—</span>}</Table.Td>
            <Table.Td className="mono">{e.clientAddress ?? '—'}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}
