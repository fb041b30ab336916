// Columns added to the audit tables later (client_request_id, migration 007):
// a null one is left out of the hashed row, so a row stored before the column
// existed keeps the hash it was sealed with; a value, or a value taken away, counts.
import { describe, expect, it } from 'vitest';
import { accessLine, linkHash, ZERO_HASH } from '../../src/audit/hash';

const before = { id: 7, actor_sub: 'alice', request_id: '0b6c2f1e-8a0d-4c47-9d6e-3f1b2a4c5d6e', client_address: null };

describe('a column added later', () => {
  it('hashes as before when null, in chain links and in access lines', () => {
    expect(linkHash(ZERO_HASH, 1, { ...before, client_request_id: null })).toBe(linkHash(ZERO_HASH, 1, before));
    expect(accessLine({ ...before, client_request_id: null })).toBe(accessLine(before));
  });

  it('counts when it holds a value, and when a value is taken away', () => {
    const withId = linkHash(ZERO_HASH, 1, { ...before, client_request_id: 'console-0001' });
    expect(withId).not.toBe(linkHash(ZERO_HASH, 1, before));
    expect(withId).not.toBe(linkHash(ZERO_HASH, 1, { ...before, client_request_id: null }));
    // Other null columns are still hashed as null.
    const { client_address: _gone, ...withoutAddress } = before;
    expect(linkHash(ZERO_HASH, 1, withoutAddress)).not.toBe(linkHash(ZERO_HASH, 1, before));
  });
});
