// What the log scrubber removes from free text (error messages and stacks).
import { describe, expect, it } from 'vitest';
import { scrub } from '../../src/logging';

describe('scrub', () => {
  it.each([
    ['duplicate key (contact_email)=(ann@example.com)', 'duplicate key (contact_email)=([email])'],
    ['card 4111 1111 1111 1111 on file', 'card [card] on file'],
    ['card 4111-1111-1111-1111', 'card [card]'],
    ['pan 4111111111111111', 'pan [card]'],
    ['Authorization: Bearer abc.def-ghi', 'Authorization: Bearer [token]'],
    ['token eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln here', 'token [token] here'],
  ])('%j → %j', (input, output) => {
    expect(scrub(input)).toBe(output);
  });

  it('keeps ordinary text, ids and short numbers', () => {
    const text = 'customer ORG-000123 version 42 failed at line 17';
    expect(scrub(text)).toBe(text);
  });
});
