import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { CustomerCreate, CustomerListQuery, CustomerPatch, Prediction } from './api';
import { Policy } from './config';
import { endpoints, pathFor, type Endpoint } from './http';
import { CHANNEL_NAMES, channels } from './ipc';

const validCustomer = {
  orgId: 'ORG-000123',
  orgName: 'Acme GmbH',
  contactName: 'Ada Lovelace',
  contactEmail: 'ada@example.com',
  contactPhone: '+49 30 1234567',
  userCount: 12,
  contractValueCents: 1_250_000,
  currency: 'EUR',
  renewalDate: '2027-03-31',
};

describe('customer contracts', () => {
  it('accepts a valid create and rejects unknown fields (no mass assignment)', () => {
    expect(CustomerCreate.safeParse({ customer: validCustomer, reason: 'New contract signed' }).success).toBe(true);
    const withOwner = CustomerCreate.safeParse({ customer: { ...validCustomer, ownerSub: 'someone' }, reason: 'New contract' });
    expect(withOwner.success).toBe(false);
    const withVersion = CustomerPatch.safeParse({ changes: { version: 99 }, reason: 'sneaky' });
    expect(withVersion.success).toBe(false);
  });

  it('requires a reason and at least one change', () => {
    const result = CustomerPatch.safeParse({ changes: {}, reason: '' });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join('.'))).toEqual(expect.arrayContaining(['changes', 'reason']));
  });

  it('keeps markup and quotes as the very text typed (no escaping, no stripping), only trimmed', () => {
    const payload = `<img src=x onerror=alert(1)>'; DROP TABLE core.customers; --`;
    const parsed = CustomerPatch.parse({ changes: { orgName: `  ${payload}\n`, contactName: 'O\'Brien & "Sons"' }, reason: 'testing literal text' });
    expect(parsed.changes).toEqual({ orgName: payload, contactName: 'O\'Brien & "Sons"' });
  });

  it('refuses fields only the API sets, at every level', () => {
    for (const field of ['orgId', 'ownerSub', 'status', 'version', 'createdAt']) {
      const r = CustomerPatch.safeParse({ changes: { orgName: 'Acme', [field]: 'x' }, reason: 'a reason' });
      expect(r.error?.issues.map((i) => i.code), field).toContain('unrecognized_keys');
    }
    expect(CustomerPatch.safeParse({ changes: { orgName: 'Acme' }, reason: 'a reason', version: 3 }).success).toBe(false);
  });

  it('coerces list query strings and applies defaults', () => {
    expect(CustomerListQuery.parse({ limit: '20', minChurnRisk: '0.5' })).toEqual({ limit: 20, minChurnRisk: 0.5, sort: 'name' });
    expect(CustomerListQuery.safeParse({ limit: '5000' }).success).toBe(false);
  });

  it('bounds prediction scores to 0..1', () => {
    const base = { orgId: 'ORG-000001', kind: 'churn_risk', modelName: 'churn', modelVersion: '1', topFactors: [], scoredAt: '2026-11-01T00:00:00Z' };
    expect(Prediction.safeParse({ ...base, score: 0.4 }).success).toBe(true);
    expect(Prediction.safeParse({ ...base, score: 1.4 }).success).toBe(false);
  });
});

describe('policy', () => {
  const policy = { issuer: 'https://login.example.com', clientId: 'cims-console', apiBaseUrl: 'https://cims-api.example.com', apiAudience: 'https://cims-api.example.com' };

  it('applies the documented defaults', () => {
    const parsed = Policy.parse(policy);
    expect(parsed.inactivityTimeoutMinutes).toBe(15);
    expect(parsed.autoUpdate).toBe(false);
  });

  it('refuses plain http except on loopback', () => {
    const remote = Policy.safeParse({ ...policy, apiBaseUrl: 'http://cims-api.example.com' });
    expect(remote.success).toBe(false);
    expect(remote.error?.issues[0]?.path).toEqual(['apiBaseUrl']);
    expect(Policy.safeParse({ ...policy, issuer: 'http://127.0.0.1:9000' }).success).toBe(true);
    expect(Policy.safeParse({ ...policy, issuer: 'http://127.0.0.1.evil.example:9000' }).success).toBe(false);
  });
});

describe('channel table', () => {
  it('refuses unknown fields on every channel, so the renderer cannot smuggle one to the API', () => {
    for (const name of CHANNEL_NAMES) {
      const r = channels[name].input.safeParse({ __sneaky: true });
      expect(r.success, name).toBe(false);
      expect(r.error?.issues.map((i) => i.code), name).toContain('unrecognized_keys');
    }
  });

  it('moves listed customers or a whole portfolio, never both, and names an unknown field', () => {
    const input = channels['assignments:apply'].input;
    const reason = 'Carol leaves the team';
    expect(input.safeParse({ orgIds: ['ORG-000001'], toOwner: 'carol', reason }).success).toBe(true);
    expect(input.safeParse({ fromOwner: 'carol', toOwner: 'alice', reason }).success).toBe(true);
    expect(input.safeParse({ orgIds: ['ORG-000001'], fromOwner: 'carol', toOwner: 'alice', reason }).success).toBe(false);
    expect(input.safeParse({ toOwner: 'alice', reason }).success).toBe(false);
    expect(input.safeParse({ fromOwner: 'carol', toOwner: 'carol', reason }).success).toBe(false);
    expect(input.safeParse({ fromOwner: 'carol', toOwner: 'alice', reason, owner: 'erin' }).error?.issues[0]).toMatchObject({ code: 'unrecognized_keys', keys: ['owner'] });
  });

  it('sends the version a CRM edited, which must be a real one', () => {
    const update = { orgId: 'ORG-000123', changes: { userCount: 3 }, reason: 'More seats' };
    expect(channels['customers:update'].input.safeParse({ ...update, version: 4 }).success).toBe(true);
    for (const version of [0, -1, 1.5, '4', undefined]) {
      expect(channels['customers:update'].input.safeParse({ ...update, version }).success, String(version)).toBe(false);
    }
  });
});

describe('HTTP contract', () => {
  const all = Object.entries(endpoints as Record<string, Endpoint>);

  it('declares each method and path once, with one usual 2xx and at most a 202 (waits for approval) beside it', () => {
    const keys = all.map(([, e]) => `${e.method} ${e.path}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const [name, e] of all) {
      const ok = Object.keys(e.responses).filter((s) => s.startsWith('2'));
      expect(ok.length === 1 || (ok.length === 2 && ok[1] === '202' && ok[0] !== '202'), `${name}: ${ok.join(', ')}`).toBe(true);
    }
    expect(Object.keys(endpoints['customers.update'].responses).filter((s) => s.startsWith('2'))).toEqual(['200', '202']);
  });

  it('declares a schema for each path parameter, and only those', () => {
    for (const [name, e] of all) {
      const inPath = [...e.path.matchAll(/:(\w+)/g)].map((m) => m[1]);
      const declared = e.params ? Object.keys((e.params as z.ZodObject).shape) : [];
      expect(declared, name).toEqual(inPath);
    }
  });

  it('lets every write that needs If-Match answer 428 and 412, and every authenticated route 401 and 403', () => {
    for (const [name, e] of all) {
      const statuses = Object.keys(e.responses).map(Number);
      if (e.ifMatch) expect(statuses, name).toEqual(expect.arrayContaining([412, 428]));
      if (e.body) expect(statuses, name).toEqual(expect.arrayContaining([413, 415]));
      if (e.access !== 'public') expect(statuses, name).toEqual(expect.arrayContaining([401, 403, 429]));
    }
    expect(endpoints['customers.update'].ifMatch).toBe(true);
    expect(endpoints['customers.archive'].ifMatch).toBe(true);
  });

  it('fills path parameters encoded, so an id cannot change the path', () => {
    expect(pathFor(endpoints['customers.get'], { orgId: 'ORG-000123' })).toBe('/v1/customers/ORG-000123');
    expect(pathFor(endpoints['customers.audit'], { orgId: '../audit/events?x=1' })).toBe('/v1/customers/..%2Faudit%2Fevents%3Fx%3D1/audit');
    expect(() => pathFor(endpoints['customers.get'], {})).toThrow(/orgId/);
  });
});
