// The fuzzer's checks can fail: each one against a response that breaks it.
import type { LightMyRequestResponse } from 'fastify';
import { describe, expect, it } from 'vitest';
import { endpoints } from '../../../shared/http';
import { billingLeak, contractViolation, writeViolation } from './checks';

const response = (statusCode: number, body: unknown, type = 'application/json'): LightMyRequestResponse =>
  ({ statusCode, headers: { 'content-type': type }, body: typeof body === 'string' ? body : JSON.stringify(body) }) as unknown as LightMyRequestResponse;
const problem = (status: number) => ({ type: 'about:blank', title: 'x', status, requestId: 'r1' });

describe('contractViolation', () => {
  const me = endpoints['system.me'];
  it('passes a body that matches its status', () => {
    expect(contractViolation(me, response(200, { sub: 'alice', name: 'Alice', roles: ['crm'] })).why).toBe('');
    expect(contractViolation(me, response(401, problem(401), 'application/problem+json')).why).toBe('');
  });
  it.each([
    ['a 5xx', response(500, problem(500), 'application/problem+json'), /a 500/],
    ['an undeclared status', response(404, problem(404), 'application/problem+json'), /not declared/],
    ['an error that is not problem+json', response(401, problem(401)), /not problem\+json/],
    ['a problem with another status', response(403, problem(401), 'application/problem+json'), /does not match/],
    ['a 200 with an extra field', response(200, { sub: 'a', name: 'A', roles: [], admin: true }), /schema/],
    ['a body that is not JSON', response(200, 'hello'), /not JSON/],
    ['a CSV export of the wrong type', response(200, 'a,b', 'application/json'), /not text\/csv/],
  ])('fails %s', (_name, res, why) => {
    const e = res.body === 'a,b' ? endpoints['audit.exportCsv'] : me;
    expect(contractViolation(e, res).why).toMatch(why);
  });
});

describe('billingLeak', () => {
  const masked = { billing: [{ brand: 'visa', last4: '4242', expMonth: 12, expYear: 2030 }] };
  it('lets brand, last four and expiry through', () => {
    expect(billingLeak(JSON.stringify(masked), masked)).toBeNull();
  });
  it.each([
    ['a processor token in the text', 'x,tok_abc123,y', null],
    ['the billing e-mail in the text', '"billing-secret@example.com"', null],
    ['a processorToken field', '{}', { customer: { processorToken: 'p' } }],
    ['a billing_email field', '{}', [{ billing_email: 'e' }]],
    ['a billing method with more than it may show', '{}', { billing: [{ brand: 'visa', last4: '4242', expMonth: 1, expYear: 2030, holder: 'A' }] }],
  ])('finds %s', (_name, text, json) => {
    expect(billingLeak(text, json)).not.toBeNull();
  });
});

describe('writeViolation', () => {
  const fp = (data: string, events: number) => ({ data, events });
  it('passes a refusal that changed nothing, a change with one event, a no-op with none', () => {
    expect(writeViolation(403, fp('a', 1), fp('a', 1))).toBe('');
    expect(writeViolation(200, fp('a', 1), fp('b', 2))).toBe('');
    expect(writeViolation(200, fp('a', 1), fp('a', 1))).toBe('');
  });
  it('passes a change with as many events as it says it made (an assignment: one per customer moved), and no other number', () => {
    expect(writeViolation(200, fp('a', 1), fp('b', 4), 3)).toBe('');
    expect(writeViolation(200, fp('a', 1), fp('b', 2), 3)).not.toBe('');
    expect(writeViolation(200, fp('a', 1), fp('b', 5), 3)).not.toBe('');
  });
  it.each([
    ['a refusal that changed data', 400, fp('a', 1), fp('b', 1)],
    ['a refusal that wrote an event', 412, fp('a', 1), fp('a', 2)],
    ['a change without an event', 200, fp('a', 1), fp('b', 1)],
    ['a change with two events', 201, fp('a', 1), fp('b', 3)],
    ['a no-op with an event', 200, fp('a', 1), fp('a', 2)],
  ])('fails %s', (_name, status, before, after) => {
    expect(writeViolation(status, before, after)).not.toBe('');
  });
});
