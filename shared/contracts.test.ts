import { describe, expect, it } from 'vitest';
import { CustomerCreate, CustomerListQuery, CustomerPatch, Prediction } from './api';
import { Policy } from './config';
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

  it('keeps SQL and HTML payloads as plain text', () => {
    const payload = `<img src=x onerror=alert(1)>'; DROP TABLE core.customers; --`;
    const parsed = CustomerPatch.parse({ changes: { orgName: payload }, reason: 'testing literal text' });
    expect(parsed.changes.orgName).toBe(payload);
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
  it('names every channel with a domain prefix and has input and output schemas', () => {
    for (const name of CHANNEL_NAMES) {
      expect(name).toMatch(/^[a-z]+:[a-zA-Z]+$/);
      expect(channels[name].input).toBeDefined();
      expect(channels[name].output).toBeDefined();
    }
  });
});
