import { describe, expect, it } from 'vitest';
import { factorLabel, formatBytes } from './format';

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
