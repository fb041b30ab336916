import { useState, type FormEvent } from 'react';
import { AuditAction, OrgId } from '../../../shared/api';
import type { AccessFilters, AuditFilters } from './api';

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

/** The access review's inputs: a user, a customer and a range of days. */
export type AccessFilterInputs = Pick<FilterInputs, 'actor' | 'orgId' | 'fromDay' | 'toDay'>;
export const NO_ACCESS_FILTERS: AccessFilterInputs = { actor: '', orgId: '', fromDay: '', toDay: '' };

type Errors<I> = Partial<Record<keyof I, string>>;

const startOfDay = (day: string) => new Date(`${day}T00:00:00`).toISOString();
const endOfDay = (day: string) => new Date(`${day}T23:59:59.999`).toISOString();

/** The inputs both reviews have: the customer and the range, checked and converted. */
function customerAndRange(f: AccessFilterInputs): { errors: Errors<AccessFilterInputs>; orgId: string; from?: string; to?: string } {
  const errors: Errors<AccessFilterInputs> = {};
  const orgId = f.orgId.trim().toUpperCase();
  if (orgId && !OrgId.safeParse(orgId).success) errors.orgId = 'Organization id looks like ORG-000123';
  if (f.fromDay && f.toDay && f.fromDay > f.toDay) errors.toDay = 'The end date is before the start date';
  return { errors, orgId, ...(f.fromDay ? { from: startOfDay(f.fromDay) } : {}), ...(f.toDay ? { to: endOfDay(f.toDay) } : {}) };
}

/** Turns what was typed into an audit query, or says which input is wrong. */
export function toAuditFilters(f: FilterInputs): { filters: AuditFilters } | { errors: Errors<FilterInputs> } {
  const { errors, orgId, from, to } = customerAndRange(f);
  const all: Errors<FilterInputs> = { ...errors };
  const action = f.action ? AuditAction.safeParse(f.action) : null;
  if (action && !action.success) all.action = 'Unknown action';
  if (Object.keys(all).length) return { errors: all };
  const filters: AuditFilters = {
    ...(f.actor.trim() ? { actor: f.actor.trim() } : {}),
    ...(orgId ? { orgId } : {}),
    ...(f.field ? { field: f.field } : {}),
    ...(action?.success ? { action: action.data } : {}),
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
  };
  return { filters };
}

/** Turns what was typed into an access-log query, or says which input is wrong. */
export function toAccessFilters(f: AccessFilterInputs): { filters: AccessFilters } | { errors: Errors<AccessFilterInputs> } {
  const { errors, orgId, from, to } = customerAndRange(f);
  if (Object.keys(errors).length) return { errors };
  const filters: AccessFilters = {
    ...(f.actor.trim() ? { user: f.actor.trim() } : {}),
    ...(orgId ? { orgId } : {}),
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
  };
  return { filters };
}

/**
 * A filter form's state: the inputs as typed, their errors, and the filters last
 * applied (none at first; every filter is optional). `apply` checks the inputs with
 * `parse` and applies them only if they are all right; `clear` empties all three.
 */
export function useFilterForm<I, F>(empty: I, parse: (inputs: I) => { filters: F } | { errors: Errors<I> }) {
  const [inputs, setInputs] = useState<I>(empty);
  const [errors, setErrors] = useState<Errors<I>>({});
  const [applied, setApplied] = useState<F>({} as F);

  const set = (k: keyof I) => (e: { currentTarget: { value: string } }) => {
    const value = e.currentTarget.value;
    setInputs((f) => ({ ...f, [k]: value }));
  };
  const apply = (e: FormEvent) => {
    e.preventDefault();
    const r = parse(inputs);
    if ('errors' in r) return setErrors(r.errors);
    setErrors({});
    setApplied(r.filters);
  };
  const clear = () => {
    setInputs(empty);
    setErrors({});
    setApplied({} as F);
  };
  return { inputs, errors, applied, set, apply, clear };
}
