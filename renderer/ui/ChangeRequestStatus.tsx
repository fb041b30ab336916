import { Badge } from '@mantine/core';
import type { ChangeRequest, ChangeRequestStatus } from '../../shared/api';
import { fieldLabel } from './fields';

export const STATUS_LABELS: Record<ChangeRequestStatus, string> = {
  pending: 'Waiting',
  approved: 'Approved',
  rejected: 'Rejected',
  withdrawn: 'Withdrawn',
  expired: 'Expired',
  stale: 'Stale',
};
export const STATUS_COLORS: Record<ChangeRequestStatus, string> = {
  pending: 'blue',
  approved: 'teal',
  rejected: 'red',
  withdrawn: 'gray',
  expired: 'gray',
  stale: 'orange',
};
export const KIND_LABELS = { edit: 'Edit', archive: 'Archive', unarchive: 'Un-archive' } as const;

/** A change request's status in words (never by colour alone). */
export function StatusBadge({ status }: { status: ChangeRequestStatus }) {
  return (
    <Badge color={STATUS_COLORS[status]} variant="light" size="sm" radius="sm" className="status-badge">
      {STATUS_LABELS[status]}
    </Badge>
  );
}

/** What a request asks for, in a few words: "Archive", or the fields it changes. */
export const requestSummary = (r: ChangeRequest): string =>
  r.kind === 'edit' ? r.changes.map((c) => fieldLabel(c.field)).join(', ') : KIND_LABELS[r.kind];
