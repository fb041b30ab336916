// CSV for audit exports (RFC 4180), safe to open in a spreadsheet: text cells
// that a spreadsheet would run as a formula are prefixed with an apostrophe
// (OWASP "CSV injection"). Numbers are written as numbers.
import type { AccessEvent, AuditEvent } from '../../shared/api';

type Cell = string | number | boolean | null | undefined;

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

export function csvCell(value: Cell): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvRow(cells: readonly Cell[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

export const AUDIT_CSV_COLUMNS = [
  'eventId',
  'occurredAt',
  'actorSub',
  'actorName',
  'actorRoles',
  'action',
  'entityType',
  'entityId',
  'field',
  'before',
  'after',
  'reason',
  'requestId',
  'clientAddress',
  'appVersion',
  'prevHash',
  'hash',
] as const;

/** One row per changed field (one row for an event without field changes). */
export function auditEventRows(event: AuditEvent): string {
  const common = (field: Cell, before: Cell, after: Cell): Cell[] => [
    event.id,
    event.occurredAt,
    event.actorSub,
    event.actorName,
    event.actorRoles.join(' '),
    event.action,
    event.entityType,
    event.entityId,
    field,
    before,
    after,
    event.reason,
    event.requestId,
    event.clientAddress,
    event.appVersion,
    event.prevHash,
    event.hash,
  ];
  if (event.changes.length === 0) return csvRow(common(null, null, null));
  return event.changes.map((c) => csvRow(common(c.field, c.before, c.after))).join('');
}

export const ACCESS_CSV_COLUMNS = [
  'accessId',
  'occurredAt',
  'actorSub',
  'actorName',
  'actorRoles',
  'kind',
  'orgId',
  'detail',
  'requestId',
  'clientAddress',
  'appVersion',
] as const;

/** One row per access event; the detail (query, org ids shown, counts) as JSON text. */
export function accessEventRow(event: AccessEvent): string {
  return csvRow([
    event.id,
    event.occurredAt,
    event.actorSub,
    event.actorName,
    event.actorRoles.join(' '),
    event.kind,
    event.orgId,
    JSON.stringify(event.detail),
    event.requestId,
    event.clientAddress,
    event.appVersion,
  ]);
}
