import { describe, expect, it } from 'vitest';
import { CustomerListQuery, CustomerPatch, isStorableText, PredictionBatch } from './api';
import { channels } from './ipc';

describe('text the database can store', () => {
  it.each([
    ['a NUL', 'a\u0000b', false],
    ['a lone high surrogate', 'a\ud800', false],
    ['a lone low surrogate', '\udc00b', false],
    ['two high surrogates', '\ud800\ud800\udc00', false],
    ['a surrogate pair (emoji)', 'Zoë 🚀', true],
    ['other control characters', 'tab\there\u0001', true],
  ])('%s → %s', (_name, text, ok) => {
    expect(isStorableText(text)).toBe(ok);
  });

  it('every schema built on it refuses such text with a field error', () => {
    const patch = CustomerPatch.safeParse({ changes: { orgName: 'Acme\u0000' }, reason: 'Because' });
    expect(patch.success).toBe(false);
    expect(patch.error?.issues.map((i) => i.path.join('.'))).toEqual(['changes.orgName']);
    expect(CustomerPatch.safeParse({ changes: { userCount: 1 }, reason: 'Why \ud800' }).success).toBe(false);
    expect(CustomerListQuery.safeParse({ q: '\u0000' }).success).toBe(false);
    const factor = { factor: 'x\u0000', weight: 0.1 };
    const prediction = { orgId: 'ORG-000001', kind: 'churn_risk', modelName: 'm', modelVersion: '1', score: 0.5, topFactors: [factor], scoredAt: '2026-01-01T00:00:00Z' };
    expect(PredictionBatch.safeParse({ predictions: [prediction] }).success).toBe(false);
  });

  it('the IPC channels reuse it', () => {
    const input = { orgId: 'ORG-000001', version: 1, changes: { contactName: 'Lee\u0000' }, reason: 'Because' };
    expect(channels['customers:update'].input.safeParse(input).success).toBe(false);
    expect(channels['customers:audit'].input.safeParse({ orgId: 'ORG-000001', cursor: '\udfff' }).success).toBe(false);
    expect(channels['customers:access'].input.safeParse({ orgId: 'ORG-000001', cursor: 'a\u0000' }).success).toBe(false);
    expect(channels['audit:events'].input.safeParse({ actor: 'a\u0000' }).success).toBe(false);
  });
});
