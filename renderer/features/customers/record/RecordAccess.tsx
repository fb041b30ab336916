import { useInfiniteQuery } from '@tanstack/react-query';
import { AccessEventTable } from '../../../ui/AccessEventTable';
import { customerQueries } from '../api/queries';
import { RecordEvents } from './RecordEvents';

/** Who viewed this record: its reads and the searches that listed it, newest first (support leads). */
export function RecordAccess({ orgId }: { orgId: string }) {
  const access = useInfiniteQuery(customerQueries.access(orgId));
  return (
    <RecordEvents
      query={access}
      loadingLabel="Loading who viewed this record"
      errorTitle="Could not load who viewed this record"
      empty="Nobody has viewed this record yet."
      older="Show older views"
    >
      {(events) => (
        /* Scrolls inside the card; focusable so the keyboard can scroll it too. */
        <div className="access-scroll" tabIndex={0} role="region" aria-label="Access events, newest first">
          <AccessEventTable events={events} label="Who viewed this record" />
        </div>
      )}
    </RecordEvents>
  );
}
