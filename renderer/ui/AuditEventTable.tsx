// Audit events as a table, written once for the audit review and a record's own
// history. The review adds who the actor was (roles), the customer and the address.
import { Table, VisuallyHidden } from '@mantine/core';
import type { ReactNode } from 'react';
import type { AuditEvent } from '../../shared/api';
import { AuditChanges } from './AuditChanges';
import { ACTION_LABELS } from './fields';
import { formatDateTime } from './format';

export interface AuditEventTableProps {
  events: AuditEvent[];
  label: string;
  /** The review across customers: roles, customer and client address too, with a sticky header. */
  acrossCustomers?: boolean;
  /** A last column of actions for each event (a record's history: "Revert this change"). */
  rowAction?: (event: AuditEvent) => ReactNode;
}

const NONE = <span className="dim">—</span>;

export function AuditEventTable({ events, label, acrossCustomers = false, rowAction }: AuditEventTableProps) {
  return (
    <Table
      striped
      stickyHeader={acrossCustomers}
      withTableBorder={!acrossCustomers}
      verticalSpacing={4}
      fz="xs"
      aria-label={label}
      className="dense-table"
    >
      <Table.Thead>
        <Table.Tr>
          <Table.Th w={acrossCustomers ? 165 : 170}>When</Table.Th>
          <Table.Th w={acrossCustomers ? 130 : 150}>Who</Table.Th>
          <Table.Th w={acrossCustomers ? 90 : 110}>Action</Table.Th>
          {acrossCustomers && <Table.Th w={100}>Customer</Table.Th>}
          <Table.Th>What changed</Table.Th>
          <Table.Th w={acrossCustomers ? 200 : undefined}>Why</Table.Th>
          {acrossCustomers && <Table.Th w={110}>From</Table.Th>}
          {rowAction && (
            <Table.Th w={150}>
              <VisuallyHidden>Actions</VisuallyHidden>
            </Table.Th>
          )}
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {events.map((e) => (
          <Table.Tr key={e.id}>
            <Table.Td>{formatDateTime(e.occurredAt)}</Table.Td>
            <Table.Td>
              {acrossCustomers ? (
                <>
                  <div>{e.actorName}</div>
                  <div className="dim">{e.actorRoles.join(', ') || e.actorSub}</div>
                </>
              ) : (
                e.actorName
              )}
              {e.via === 'portal' && <div className="dim">Customer, via the portal</div>}
              {e.detail?.checker && !e.action.startsWith('change.') && (
                <div className="dim">
                  asked by {e.detail.maker.name}, approved by {e.detail.checker.name}
                </div>
              )}
            </Table.Td>
            <Table.Td>
              {ACTION_LABELS[e.action]}
              <div className="dim">
                #{e.id}
                {e.revertOf && ` · reverts #${e.revertOf}`}
                {e.detail && ` · change request #${e.detail.changeRequestId}`}
              </div>
            </Table.Td>
            {acrossCustomers && <Table.Td className="mono">{e.entityId}</Table.Td>}
            <Table.Td>
              <AuditChanges changes={e.changes} />
            </Table.Td>
            <Table.Td>{e.reason ?? NONE}</Table.Td>
            {acrossCustomers && <Table.Td className="mono">{e.clientAddress ?? '—'}</Table.Td>}
            {rowAction && <Table.Td>{rowAction(e)}</Table.Td>}
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}
