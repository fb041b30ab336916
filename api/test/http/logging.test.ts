// What the log scrubber removes from free text (error messages and stacks), and
// what the redactor removes from every logged object.
import { describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { loggerOptions, redact, scrub } from '../../src/logging';

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

describe('redact', () => {
  it('replaces sensitive keys at any depth, in objects and arrays, whatever their case or separators', () => {
    const logged = {
      headers: { Authorization: 'Bearer abc', cookie: 's=1', 'x-request-id': 'r1' },
      customer: { orgId: 'ORG-000001', contactEmail: 'ann@example.com', contact_phone: '+1 555 0100' },
      batch: [{ refresh_token: 'rt', note: 'kept' }],
      count: 3,
    };
    expect(redact(logged)).toEqual({
      headers: { Authorization: '[redacted]', cookie: '[redacted]', 'x-request-id': 'r1' },
      customer: { orgId: 'ORG-000001', contactEmail: '[redacted]', contact_phone: '[redacted]' },
      batch: [{ refresh_token: '[redacted]', note: 'kept' }],
      count: 3,
    });
    expect(logged.headers.Authorization).toBe('Bearer abc'); // a copy: the caller's object is untouched
  });

  it('replaces whatever lies deeper than it walks, and leaves class instances to the serializers', () => {
    let deep: Record<string, unknown> = { email: 'x@example.com' };
    for (let i = 0; i < 8; i++) deep = { next: deep };
    expect(JSON.stringify(redact(deep))).not.toContain('example.com');
    const err = new Error('boom');
    expect((redact({ err }) as { err: unknown }).err).toBe(err);
  });

  it('is what the API logger applies to every line', async () => {
    const lines: string[] = [];
    const app = Fastify({ logger: loggerOptions({ sink: { write: (l) => void lines.push(l) } }) });
    app.log.info({ session: { accessToken: 'eyJhbGciOiJSUzI1NiJ9.e30.sig', user: { email: 'ann@example.com' } } }, 'signed in');
    await app.close();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('"accessToken":"[redacted]"');
    expect(lines[0]).not.toContain('example.com');
  });
});
