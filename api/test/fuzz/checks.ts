// What the fuzzer checks on every response, as functions of the response alone.
import type { LightMyRequestResponse } from 'fastify';
import { Problem } from '../../../shared/api';
import { isSuccessStatus, successStatus, type Endpoint } from '../../../shared/http';

/** The billing e-mail the fuzzer seeds; processor tokens are seeded as tok_<hex> (testing/db.ts). */
export const BILLING_EMAIL = 'billing-secret@example.com';
const BILLING_SECRETS = ['tok_', 'billing-secret@'];
const BILLING_KEYS = new Set(['brand', 'last4', 'expMonth', 'expYear']);
const FORBIDDEN_KEYS = /token|billing_?email|card_?number|pan$|cvc|cvv/i;

/** Every way a body could carry billing data beyond brand, last four and expiry. */
export function billingLeak(text: string, json: unknown): string | null {
  for (const s of BILLING_SECRETS) if (text.includes(s)) return `the body holds ${s}…`;
  const walk = (v: unknown): string | null => {
    if (Array.isArray(v)) return v.map(walk).find((x) => x) ?? null;
    if (typeof v !== 'object' || v === null) return null;
    const keys = Object.keys(v);
    const bad = keys.find((k) => FORBIDDEN_KEYS.test(k));
    if (bad) return `a field ${bad}`;
    if (keys.includes('last4') && keys.some((k) => !BILLING_KEYS.has(k))) return `a billing method with ${keys.join(', ')}`;
    return Object.values(v).map(walk).find((x) => x) ?? null;
  };
  return walk(json);
}

/** What is wrong with a response under the contract ('' when nothing), and its JSON body when it has one. */
export function contractViolation(e: Endpoint, res: LightMyRequestResponse): { why: string; json: unknown } {
  const status = res.statusCode;
  const type = String(res.headers['content-type'] ?? '');
  if (status >= 500) return { why: `a ${status}`, json: null };
  const schema = (e.responses as Record<number, { safeParse(v: unknown): { success: boolean; error?: unknown } }>)[status];
  if (!schema) return { why: `status ${status} is not declared for ${e.method} ${e.path}`, json: null };
  if (status === successStatus(e) && e.produces) {
    return { why: type.startsWith(e.produces) ? '' : `a ${status} of type ${type}, not ${e.produces}`, json: null };
  }
  let json: unknown;
  try {
    json = JSON.parse(res.body);
  } catch {
    return { why: `a ${status} whose body is not JSON`, json: null };
  }
  if (!isSuccessStatus(e, status)) {
    if (!type.startsWith('application/problem+json')) return { why: `a ${status} of type ${type}, not problem+json`, json };
    const p = Problem.safeParse(json);
    if (!p.success || p.data.status !== status) return { why: `a ${status} whose problem does not match`, json };
  }
  const parsed = schema.safeParse(json);
  return { why: parsed.success ? '' : `a ${status} whose body does not match its schema: ${String(parsed.error).slice(0, 300)}`, json };
}


/** The tables a write can change, as counts and versions (`data`), and the number of audit events. */
export interface Fingerprint {
  data: string;
  events: number;
}

/** What is wrong with what a write did ('' when nothing): a refusal changes nothing; a change has its audit events (one, unless it says it made more). */
export function writeViolation(status: number, before: Fingerprint, after: Fingerprint, expectedEvents = 1): string {
  const changed = after.data !== before.data;
  const events = after.events - before.events;
  if (status >= 300) return changed || events !== 0 ? `a refused write (${status}) changed data or wrote ${events} audit events` : '';
  if (changed) return events === expectedEvents ? '' : `a successful write wrote ${events} audit events, not ${expectedEvents}`;
  return events === 0 ? '' : `a write that changed nothing wrote ${events} audit events`;
}
