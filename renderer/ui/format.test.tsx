import { describe, expect, it } from 'vitest';
import { factorLabel } from './format';

describe('factorLabel', () => {
  it('turns a model\'s snake_case factor into words and leaves written names alone', () => {
    expect(factorLabel('active_users_trend_30d')).toBe('Active users trend 30d');
    expect(factorLabel('seat_utilization')).toBe('Seat utilization');
    expect(factorLabel('Support tickets open')).toBe('Support tickets open');
  });
});
