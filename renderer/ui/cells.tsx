// Table cells for customer lists, written once for every list that shows a
// customer (the Customers search and the portfolio). Plain text only, and plain
// elements: a scroll frame renders dozens of rows.
import { daysUntil, describeDaysLeft, formatDate, formatMoney, isRenewingSoon } from './format';

/** The record's name as a button that opens it (Enter on the row does the same); a plain button, as every cell here is plain. */
export function OpenCell({ label, onOpen }: { label: string; onOpen: () => void }) {
  return (
    <button type="button" className="link-cell" onClick={onOpen} title={label}>
      {label}
    </button>
  );
}

export function IdCell({ id }: { id: string }) {
  return <span className="mono dim">{id}</span>;
}

export function TextCell({ text }: { text: string }) {
  return <span className="truncate">{text}</span>;
}

/** A contact's name with one way to reach them (email or phone) dimmed after it. */
export function ContactCell({ name, reach }: { name: string; reach: string }) {
  return (
    <span className="truncate" title={`${name} · ${reach}`}>
      {name} <span className="dim">· {reach}</span>
    </span>
  );
}

/**
 * The renewal date and how far off it is, highlighted within 30 days.
 * `compact` says "(12 d)" and keeps the sentence for the tooltip, for narrow columns.
 */
export function RenewalCell({ date, compact = false }: { date: string; compact?: boolean }) {
  const days = daysUntil(date);
  const tone = isRenewingSoon(days) ? 'warn' : 'dim';
  return compact ? (
    <span className="truncate" title={describeDaysLeft(days)}>
      {formatDate(date)} <span className={tone}>({days >= 0 ? `${days} d` : 'past'})</span>
    </span>
  ) : (
    <span className="truncate">
      {formatDate(date)} <span className={tone}>{describeDaysLeft(days)}</span>
    </span>
  );
}

/** A header for a right-aligned number column. */
export function NumberHeader({ label }: { label: string }) {
  return <span className="num">{label}</span>;
}

export function MoneyCell({ cents, currency }: { cents: number; currency: string }) {
  return <span className="num">{formatMoney(cents, currency)}</span>;
}
