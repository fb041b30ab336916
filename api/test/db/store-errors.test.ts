// How database errors become what the client is told: deliberate SQLSTATEs keep
// their message, standard ones name the field instead of the constraint, lock
// cycles are "busy" (retry), and anything else is passed on as it is (a 500).
import { describe, expect, it } from 'vitest';
import { toStoreError } from '../../src/db/pg-store';
import { StoreError } from '../../src/db/store';

const pgError = (code: string, message: string, extra: object = {}) => Object.assign(new Error(message), { code, ...extra });

describe('toStoreError', () => {
  it.each([
    [pgError('CF403', 'not allowed to edit customers'), new StoreError('forbidden', 'not allowed to edit customers')],
    [pgError('CC409', 'customer ORG-000001 has changed'), new StoreError('conflict', 'customer ORG-000001 has changed')],
    [
      pgError('23514', 'new row for relation "customers" violates check constraint', { constraint: 'customers_user_count_check' }),
      new StoreError('validation', 'userCount is not valid'),
    ],
    [pgError('23505', 'duplicate key value violates unique constraint "customers_pkey"'), new StoreError('duplicate', 'the record exists already')],
    [pgError('40P01', 'deadlock detected'), new StoreError('busy', 'the database is busy with a conflicting change; try again')],
    [pgError('40001', 'could not serialize access'), new StoreError('busy', 'the database is busy with a conflicting change; try again')],
    [
      pgError('57014', 'canceling statement due to statement timeout'),
      new StoreError('busy', 'the request took too long in the database and was stopped; try again, or narrow it'),
    ],
    [pgError('55P03', 'canceling statement due to lock timeout'), new StoreError('busy', 'a record is locked by another change right now; try again')],
  ])('%s', (err, expected) => {
    const mapped = toStoreError(err);
    expect(mapped).toBeInstanceOf(StoreError);
    expect(mapped).toEqual(expected);
    expect((mapped as StoreError).kind).toBe(expected.kind);
  });

  it('passes anything else on unchanged, so it is logged and answered as a 500', () => {
    const err = pgError('XX000', 'internal error');
    expect(toStoreError(err)).toBe(err);
    const notPg = new Error('socket hang up');
    expect(toStoreError(notPg)).toBe(notPg);
  });
});
