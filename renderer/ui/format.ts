// Display formatting. Everything renders as text; nothing from the API becomes HTML.
import { RENEWAL_SOON_DAYS } from '../../shared/api';

const DAY_MS = 86_400_000;

// Building an Intl formatter costs far more than formatting with one (a table row
// formats a date and an amount, dozens of rows a scroll frame): one per currency,
// made on first use. The locale is the window's, fixed for its lifetime.
const moneyFormats = new Map<string, Intl.NumberFormat | null>();

export function formatMoney(cents: number, currency: string): string {
  let format = moneyFormats.get(currency);
  if (format === undefined) {
    try {
      format = new Intl.NumberFormat(undefined, { style: 'currency', currency, maximumFractionDigits: 0 });
    } catch {
      format = null; // not a currency Intl knows
    }
    moneyFormats.set(currency, format);
  }
  return format ? format.format(cents / 100) : `${(cents / 100).toFixed(2)} ${currency}`;
}

let dateFormat: Intl.DateTimeFormat | undefined;
let dateTimeFormat: Intl.DateTimeFormat | undefined;

/** A calendar date (YYYY-MM-DD), shown without shifting it into another time zone. */
export function formatDate(isoDate: string): string {
  const d = new Date(`${isoDate.slice(0, 10)}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return isoDate;
  dateFormat ??= new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric', timeZone: 'UTC' });
  return dateFormat.format(d);
}

export function formatDateTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  dateTimeFormat ??= new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  return dateTimeFormat.format(d);
}

/** Whole days from today (local calendar) to a calendar date; negative when past. */
export function daysUntil(isoDate: string, now: Date = new Date()): number {
  const target = Date.UTC(Number(isoDate.slice(0, 4)), Number(isoDate.slice(5, 7)) - 1, Number(isoDate.slice(8, 10)));
  const today = Date.UTC(now.getFullYear(), now.getMonth(), now.getDate());
  return Math.round((target - today) / DAY_MS);
}

export function describeDaysLeft(days: number): string {
  if (days === 0) return 'today';
  if (days === 1) return 'tomorrow';
  if (days > 0) return `in ${days} days`;
  return days === -1 ? 'yesterday' : `${-days} days ago`;
}

export function ageInDays(iso: string, now: Date = new Date()): number {
  return Math.floor((now.getTime() - new Date(iso).getTime()) / DAY_MS);
}

export const formatPercent = (score: number): string => `${Math.round(score * 100)}%`;

/** Audit values are JSON scalars; show null as an explicit dash. */
export function formatValue(value: string | number | boolean | null): string {
  if (value === null) return '—';
  return String(value);
}

/** A model's factor name for people: `active_users_trend_30d` → "Active users trend 30d"; names with spaces stay as given. */
export function factorLabel(factor: string): string {
  if (!/^[a-z0-9_]+$/.test(factor)) return factor;
  const words = factor.split('_').filter(Boolean).join(' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A renewal close enough to act on: today or within the next RENEWAL_SOON_DAYS days (as the portfolio's count). */
export const isRenewingSoon = (days: number): boolean => days >= 0 && days <= RENEWAL_SOON_DAYS;

/** A file's size for people: 812 B, 4.2 KB, 13.5 MB (powers of 1024). */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
