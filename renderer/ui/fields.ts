import { EDITABLE_FIELDS, type AccessKind, type AuditAction, type EditableField } from '../../shared/api';
import { formatValue } from './format';

export const FIELD_LABELS: Record<EditableField, string> = {
  orgName: 'Organization name',
  contactName: 'Contact name',
  contactEmail: 'Contact email',
  contactPhone: 'Contact phone',
  userCount: 'Users',
  contractValueCents: 'Contract value',
  currency: 'Currency',
  renewalDate: 'Renewal date',
};

export const ACTION_LABELS: Record<AuditAction, string> = {
  'customer.create': 'Created',
  'customer.update': 'Updated',
  'customer.archive': 'Archived',
  'customer.unarchive': 'Brought back',
  'predictions.ingest': 'Predictions loaded',
  'prediction.feedback': 'Prediction flagged as wrong',
  'change.requested': 'Sent for approval',
  'change.rejected': 'Change rejected',
  'change.withdrawn': 'Change withdrawn',
  'change.expired': 'Change request expired',
  'change.stale': 'Change request stale',
};

const isEditable = (f: string): f is EditableField => (EDITABLE_FIELDS as readonly string[]).includes(f);

/** Fields of history rows that are not customer fields: the card a customer replaced through the portal. */
const OTHER_FIELD_LABELS: Readonly<Record<string, string>> = { billingMethod: 'Card on file', status: 'Status' };

export const fieldLabel = (field: string): string => (isEditable(field) ? FIELD_LABELS[field] : (OTHER_FIELD_LABELS[field] ?? field));

/** A field's value as text; contract value is stored in cents and shown in units. */
export function fieldValueText(field: string, value: string | number | boolean | null): string {
  if (field === 'contractValueCents' && typeof value === 'number') {
    return (value / 100).toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }
  return formatValue(value);
}

export const ACCESS_KIND_LABELS: Record<AccessKind, string> = {
  'customer.read': 'Opened the record',
  'customer.search': 'Listed in a search',
  'customer.history': 'Read the history',
  'customer.usage': 'Read usage',
  'customer.predictions': 'Read predictions',
  'audit.review': 'Reviewed the audit trail',
  'audit.export': 'Exported the audit trail',
  'audit.evidence': 'Exported evidence',
  'change.read': 'Read a change request',
  'change.list': 'Listed in change requests',
};
