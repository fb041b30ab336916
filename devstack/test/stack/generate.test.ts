// The demo-data generator: the same seed gives the same data (whatever the
// batch size), the rows satisfy the shared contracts, and the data tells the
// stories the console shows (declining customers, owners spread over the CRMs)
// and has renewal outcomes that follow from usage, for the model job to learn.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CustomerFields, OrgId, Prediction } from '../../../shared/api';
import { FEATURES } from '../../../models/job';
import { createGenerator, orgIdFor, USAGE_DAYS, type GeneratedCustomer } from '../../src/seed/generate';
import { predictionBatches } from '../../src/seed/api-client';

const digest = (batches: Iterable<GeneratedCustomer[]>): string => {
  const h = createHash('sha256');
  for (const batch of batches) h.update(JSON.stringify(batch));
  return h.digest('hex');
};

const options = { seed: 42, customers: 300, asOf: '2026-11-20' };

describe('demo data generator', () => {
  it('gives the same data for the same seed, whatever the batch size', () => {
    const flat = (batchSize: number) => digest([[...createGenerator(options).batches(batchSize)].flat()]);
    const first = flat(7);
    expect(flat(7)).toBe(first);
    expect(flat(100)).toBe(first);
  });

  it('gives different data for another seed', () => {
    const a = createGenerator(options).customerAt(5);
    const b = createGenerator({ ...options, seed: 43 }).customerAt(5);
    expect(a.customer.orgId).toBe(b.customer.orgId);
    expect(a.customer.orgName === b.customer.orgName && a.customer.contactName === b.customer.contactName).toBe(false);
  });

  it('makes rows the shared contracts and the database accept', () => {
    const all = [...createGenerator(options).batches(100)].flat();
    const ids = new Set(all.map((g) => g.customer.orgId));
    expect(ids.size).toBe(all.length);
    const tokens = new Set(all.flatMap((g) => g.billing.map((b) => b.processorToken)));
    expect(tokens.size).toBe(all.reduce((n, g) => n + g.billing.length, 0));
    for (const g of all) {
      const { orgId: _o, ownerSub: _s, ownerName: _n, status: _st, createdAt: _c, ...fields } = g.customer;
      expect(() => CustomerFields.parse(fields)).not.toThrow();
      for (const b of g.billing) {
        expect(b.last4).toMatch(/^[0-9]{4}$/);
        expect(b.processorToken).toMatch(/^[A-Za-z0-9_]{8,100}$/);
        expect(Object.keys(b)).not.toContain('cardNumber');
      }
      const churned = g.outcomes.find((o) => o.outcome === 'churned');
      if (churned) {
        // A churned customer is archived and its usage ends the day before it left.
        expect(g.customer.status).toBe('archived');
        expect(g.usage.at(-1)!.day < churned.decidedOn).toBe(true);
        expect(g.customer.renewalDate).toBe(churned.decidedOn);
      } else {
        expect(g.usage).toHaveLength(USAGE_DAYS);
        expect(g.usage.at(-1)!.day).toBe('2026-11-19');
      }
      for (const o of g.outcomes) {
        expect(o.decidedOn < '2026-11-20' && o.decidedOn > g.customer.createdAt.slice(0, 10)).toBe(true);
        expect(o.outcome === 'churned' ? o.seatsAfter === 0 : o.seatsAfter >= o.seatsBefore).toBe(true);
      }
    }
  });

  it('spreads owners over alice and carol and has declining and growing customers', () => {
    const all = [...createGenerator(options).batches(100)].flat();
    const owners = new Map<string, number>();
    for (const g of all) owners.set(g.customer.ownerSub, (owners.get(g.customer.ownerSub) ?? 0) + 1);
    expect([...owners.keys()].sort()).toEqual(['alice', 'carol']);
    expect(Math.min(...owners.values())).toBeGreaterThan(100);

    const change = (g: GeneratedCustomer) => {
      const sum = (rows: typeof g.usage) => rows.reduce((n, r) => n + r.activeUsers, 0);
      return sum(g.usage.slice(-30)) / Math.max(1, sum(g.usage.slice(0, 30))) - 1;
    };
    const stayed = all.filter((g) => !g.outcomes.some((o) => o.outcome === 'churned'));
    const declining = stayed.filter((g) => g.trend === 'declining');
    const growing = stayed.filter((g) => g.trend === 'growing');
    expect(declining.length).toBeGreaterThan(30);
    expect(declining.every((g) => change(g) < -0.1)).toBe(true);
    expect(growing.every((g) => change(g) > 0.05)).toBe(true);
  });

  it('has renewal decisions whose outcomes follow from usage: declining customers churn more often than growing ones', () => {
    const all = [...createGenerator({ ...options, customers: 2000 }).batches(500)].flat();
    const decided = all.filter((g) => g.outcomes.some((o) => o.decidedOn >= '2026-07-19'));
    const churnRate = (trend: string) => {
      const xs = decided.filter((g) => g.trend === trend);
      return xs.filter((g) => g.outcomes.some((o) => o.outcome === 'churned')).length / xs.length;
    };
    expect(decided.length).toBeGreaterThan(400);
    expect(churnRate('declining')).toBeGreaterThan(churnRate('growing') + 0.15);
    expect(all.some((g) => g.outcomes.some((o) => o.seatsAfter > o.seatsBefore))).toBe(true);
  });

  it('has ids in the contract format past a million customers, up to ten million', () => {
    expect(orgIdFor(0)).toBe('ORG-000001');
    expect(orgIdFor(999_998)).toBe('ORG-999999');
    expect(orgIdFor(999_999)).toBe('ORG-1000000');
    expect(orgIdFor(4_999_999)).toBe('ORG-5000000');
    for (const i of [0, 999_998, 999_999, 4_999_999, 9_999_999]) expect(OrgId.safeParse(orgIdFor(i)).success).toBe(true);
    expect(() => createGenerator({ ...options, customers: 10_000_001 })).toThrow(RangeError);
    const last = createGenerator({ ...options, customers: 5_000_000, usageCustomers: 0 }).customerAt(4_999_999);
    expect(last.customer.orgId).toBe('ORG-5000000');
    expect(last.usage).toHaveLength(0);
  });

  it('splits predictions into bodies under the API body limit', () => {
    // As the model job publishes them: two scores a customer, every feature with its contribution and value.
    const predictions = [...createGenerator({ ...options, customers: 1000, usageCustomers: 0 }).batches(1000)].flat().flatMap((g) =>
      (['churn_risk', 'upsell_propensity'] as const).map((kind) =>
        Prediction.parse({
          orgId: g.customer.orgId, kind, modelName: `${kind}-logreg`, modelVersion: '2026.11.20-0123456789ab', score: 0.123456789,
          topFactors: FEATURES.map((factor) => ({ factor, weight: -1.2345, value: 12345.6789 })), scoredAt: '2026-11-20T06:00:00.123Z',
        }),
      ),
    );
    let count = 0;
    for (const batch of predictionBatches(predictions)) {
      expect(JSON.stringify({ predictions: batch }).length).toBeLessThan(48 * 1024);
      expect(batch.length).toBeLessThanOrEqual(1000);
      count += batch.length;
    }
    expect(count).toBe(2000);
  });
});
