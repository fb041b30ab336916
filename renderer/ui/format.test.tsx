import { afterEach, describe, expect, it, vi } from 'vitest';
import { factorLabel, formatBytes, formatDate, formatDateTime, formatMoney } from './format';

describe('factorLabel', () => {
  it('turns a model\'s snake_case factor into words and leaves written names alone', () => {
    expect(factorLabel('active_users_trend_30d')).toBe('Active users trend 30d');
    expect(factorLabel('seat_utilization')).toBe('Seat utilization');
    expect(factorLabel('Support tickets open')).toBe('Support tickets open');
  });
});

describe('formatBytes', () => {
  it('says bytes below a kilobyte and one decimal above', () => {
    expect(formatBytes(812)).toBe('812 B');
    expect(formatBytes(4300)).toBe('4.2 KB');
    expect(formatBytes(14_155_776)).toBe('13.5 MB');
  });
});

describe('formatMoney and formatDate', () => {
  afterEach(() => vi.restoreAllMocks());

  it('build one Intl formatter per currency and one for dates, not one per value (a scrolled table formats thousands)', () => {
    const { NumberFormat, DateTimeFormat } = Intl;
    // Counting constructions, still building the real thing.
    const numberFormats = vi.spyOn(Intl, 'NumberFormat').mockImplementation(function (...args: ConstructorParameters<typeof NumberFormat>) {
      return new NumberFormat(...args);
    } as typeof NumberFormat);
    const dateFormats = vi.spyOn(Intl, 'DateTimeFormat').mockImplementation(function (...args: ConstructorParameters<typeof DateTimeFormat>) {
      return new DateTimeFormat(...args);
    } as typeof DateTimeFormat);
    const shown = new Set<string>();
    for (let i = 0; i < 200; i++) {
      shown.add(formatMoney(i * 10_000, 'CHF'));
      shown.add(formatDate(`2026-03-${String(1 + (i % 28)).padStart(2, '0')}`));
      shown.add(formatDateTime(`2026-03-01T10:${String(i % 60).padStart(2, '0')}:00Z`));
    }
    expect(numberFormats.mock.calls.length).toBeLessThanOrEqual(1);
    expect(dateFormats.mock.calls.length).toBeLessThanOrEqual(2);
    expect(shown.size).toBe(200 + 28 + 60);
  });

  it('format as Intl does, and fall back to the plain amount for a currency Intl does not know', () => {
    expect(formatMoney(1_250_000, 'EUR')).toBe(new Intl.NumberFormat(undefined, { style: 'currency', currency: 'EUR', maximumFractionDigits: 0 }).format(12_500));
    expect(formatMoney(1_250_000, 'USD')).toBe(new Intl.NumberFormat(undefined, { style: 'currency', currency: 'USD', maximumFractionDigits: 0 }).format(12_500));
    expect(formatMoney(1_250, 'EU1')).toBe('12.50 EU1');
    expect(formatDate('2026-03-09')).toBe(new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric', timeZone: 'UTC' }).format(Date.UTC(2026, 2, 9)));
    expect(formatDate('not a date')).toBe('not a date');
  });
});
