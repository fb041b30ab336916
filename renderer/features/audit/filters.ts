
import { AuditAction, OrgId } from '../../../shared/api';
import type { AuditFilters } from './api';

/** The filter inputs as typed; dates are calendar days in the user's time zone. */
export interface FilterInputs {
  actor: string;
  orgId: string;
  field: string;
  action: string;
  fromDay: string;
  toDay: string;
}
export const NO_FILTERS: FilterInputs = { actor: '', orgId: '', field: '', action: '', fromDay: '', toDay: '' };

const startOfDay = (day: string) => new Date(`${day}T00:00:00`).toISOString();
const endOfDay = (day: string) => new Date(`${day}T23:59:59.999`).toISOString();

/** Turns what was typed into an audit query, or says which input is wrong. */
export function toAuditFilters(f: FilterInputs): { filters: AuditFilters } | { errors: Partial<Record<keyof FilterInputs, string>> } {
  const errors: Partial<Record<keyof FilterInputs, string>> = {};
  const orgId = f.orgId.trim().toUpperCase();
  if (orgId && !OrgId.safeParse(orgId).success) errors.orgId = 'Organization id looks like ORG-000123';
  if (f.fromDay && f.toDay && f.fromDay > f.toDay) errors.toDay = 'The end date is before the start date';
  const action = f.action ? AuditAction.safeParse(f.action) : null;
  if (action && !action.success) errors.action = 'Unknown action';
  if (Object.keys(errors).length) return { errors };
  const filters: AuditFilters = {
    ...(f.actor.trim() ? { actor: f.actor.trim() } : {}),
    ...(orgId ? { orgId } : {}),
    ...(f.field ? { field: f.field } : {}),
    ...(action?.success ? { action: action.data } : {}),
    ...(f.fromDay ? { from: startOfDay(f.fromDay) } : {}),
    ...(f.toDay ? { to: endOfDay(f.toDay) } : {}),
  };
  return { filters };
}

