import { Button } from '@mantine/core';
import { useInfiniteQuery } from '@tanstack/react-query';
import { EDITABLE_FIELDS, type AuditEvent, type FieldChange } from '../../../../shared/api';
import { AuditEventTable } from '../../../ui/AuditEventTable';
import { customerQueries } from '../api/queries';
import { RecordEvents } from './RecordEvents';

const editable = new Set<string>(EDITABLE_FIELDS);

/** The changes of an event an edit can undo: an edit's fields a CRM can set (not an assignment's owner). */
export function revertibleChanges(e: AuditEvent): FieldChange[] {
  return e.action === 'customer.update' ? e.changes.filter((c) => editable.has(c.field)) : [];
}

/**
 * The record's own audit trail, newest first. With `onRevert` (the record's own CRM, while it is
 * active), each edit of fields they can set offers "Revert this change".
 */
export function RecordHistory({ orgId, onRevert }: { orgId: string; onRevert?: (event: AuditEvent, changes: FieldChange[]) => void }) {
  const history = useInfiniteQuery(customerQueries.audit(orgId));
  const action = onRevert
    ? (e: AuditEvent) => {
        const changes = revertibleChanges(e);
        if (changes.length === 0) return null;
        return (
          <Button size="compact-xs" variant="default" onClick={() => onRevert(e, changes)} aria-label={`Revert change #${e.id}`}>
            Revert this change
          </Button>
        );
      }
    : undefined;
  return (
    <RecordEvents query={history} loadingLabel="Loading history" errorTitle="Could not load the history" empty="No recorded changes." older="Show older changes">
      {(events) => <AuditEventTable events={events} label="Record history" {...(action ? { rowAction: action } : {})} />}
    </RecordEvents>
  );
}
