import { useInfiniteQuery } from '@tanstack/react-query';
import { AuditEventTable } from '../../../ui/AuditEventTable';
import { customerQueries } from '../api/queries';
import { RecordEvents } from './RecordEvents';

/** The record's own audit trail, newest first. */
export function RecordHistory({ orgId }: { orgId: string }) {
  const history = useInfiniteQuery(customerQueries.audit(orgId));
  return (
    <RecordEvents query={history} loadingLabel="Loading history" errorTitle="Could not load the history" empty="No recorded changes." older="Show older changes">
      {(events) => <AuditEventTable events={events} label="Record history" />}
    </RecordEvents>
  );
}
