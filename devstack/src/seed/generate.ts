// Deterministic demo data: the same seed, index and as-of date always give the
// same customer, billing methods, usage and renewal outcomes (the history the
// model job in models/ learns from; see HIDDEN). Each customer draws
// from its own seeded faker stream ([seed, index]), so data can be generated
// in any batch size, in order, for a million customers without holding them.
import { Faker, en } from '@faker-js/faker';
import { DEMO_OWNERS } from './demo-accounts';

// Org ids have 6 to 12 digits; the demo stops at ten million, far past any load test here.
export const MAX_CUSTOMERS = 10_000_000;
export const USAGE_DAYS = 180;
export const DEFAULT_SEED = 20_261_122;

export interface GenerateOptions {
  seed: number;
  customers: number;
  /** The last day of usage is the day before; predictions are scored on it. ISO date. */
  asOf: string;
  /** Usage is generated for the first N customers only (default: all). Keeps 1,000,000 customers loadable. */
  usageCustomers?: number;
}

export interface CustomerRow {
  orgId: string;
  orgName: string;
  contactName: string;
  contactEmail: string;
  contactPhone: string;
  userCount: number;
  contractValueCents: number;
  currency: string;
  renewalDate: string;
  ownerSub: string;
  ownerName: string;
  status: 'active' | 'archived';
  createdAt: string;
}

export interface BillingRow {
  orgId: string;
  processorToken: string;
  brand: 'visa' | 'mastercard' | 'amex' | 'discover' | 'other';
  last4: string;
  expMonth: number;
  expYear: number;
  billingEmail: string;
}

export interface UsageRow {
  orgId: string;
  day: string;
  activeUsers: number;
  sessions: number;
  featureEvents: number;
}

export type Trend = 'growing' | 'stable' | 'declining';

/** A renewal decision: renewed (seats after may be more: an expansion) or churned (seats after 0). */
export interface OutcomeRow {
  orgId: string;
  decidedOn: string;
  outcome: 'renewed' | 'churned';
  seatsBefore: number;
  seatsAfter: number;
}

/**
 * The hidden process behind the outcomes, on what a customer looked like in the 8 weeks before
 * its renewal decision: log-odds of churning and of expanding. Models must learn it from the
 * data; nothing but this file and its test knows it. Noise comes from the draw itself.
 */
export const HIDDEN = {
  /** Decisions are simulated for renewals this many days back at most (with 8 weeks of usage before). */
  decisionWindowDays: 124,
  churnLogit: (f: DecisionDrivers): number =>
    -1.9 - 7 * f.trend - 6 * (f.utilization - 0.55) - 0.45 * (f.tenureYears - 2.5) + 0.02 * (f.seatPrice - 60),
  expandLogit: (f: DecisionDrivers): number => -1.3 + 5 * f.trend + 7 * (f.utilization - 0.55) - 0.015 * (f.seatPrice - 60),
};

export interface DecisionDrivers {
  /** Mean active users of the last 4 weeks against the 4 before, minus 1. */
  trend: number;
  /** Mean active users of the last 4 weeks per seat. */
  utilization: number;
  tenureYears: number;
  /** Contract value per seat and month, in the contract's currency. */
  seatPrice: number;
}

export interface GeneratedCustomer {
  customer: CustomerRow;
  trend: Trend;
  billing: BillingRow[];
  usage: UsageRow[];
  /** Renewal decisions so far, oldest first. Scores come from the model job (models/), not from here. */
  outcomes: OutcomeRow[];
}


const DAY_MS = 86_400_000;
const dayOf = (iso: string): number => Date.parse(`${iso}T00:00:00Z`) / DAY_MS;
const isoDay = (day: number): string => new Date(day * DAY_MS).toISOString().slice(0, 10);
const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

/** ORG-000001 … ORG-999999, then ORG-1000000 and on: at least six digits, as the contract's format asks. */
export const orgIdFor = (index: number): string => `ORG-${String(index + 1).padStart(6, '0')}`;

/** Small fast PRNG (mulberry32) for per-day noise, seeded from the customer's faker stream. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const slug = (s: string): string =>
  s
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '')
    .slice(0, 30) || 'customer';

export function createGenerator(options: GenerateOptions) {
  if (!Number.isInteger(options.customers) || options.customers < 0 || options.customers > MAX_CUSTOMERS) {
    throw new RangeError(`customers must be a whole number from 0 to ${MAX_CUSTOMERS}`);
  }
  if (!/^\d{4}-\d{2}-\d{2}$/.test(options.asOf) || Number.isNaN(dayOf(options.asOf))) throw new RangeError('asOf must be an ISO date');
  const faker = new Faker({ locale: [en] });
  const asOfDay = dayOf(options.asOf);
  const usageCustomers = options.usageCustomers ?? options.customers;
  // The usage window's dates and weekend flags, computed once (formatting dates per row is the slow part).
  const window = Array.from({ length: USAGE_DAYS }, (_, d) => {
    const day = asOfDay - USAGE_DAYS + d;
    const weekday = ((day % 7) + 7 + 4) % 7; // 0 = Sunday (1970-01-01 was a Thursday)
    return { iso: isoDay(day), weekend: weekday === 0 || weekday === 6 };
  });

  /**
   * The renewals so far. A customer whose last renewal fell in the decision window (with 8 weeks
   * of usage before it) decided then, by HIDDEN: churned (archived, usage ends, the renewal date
   * stays the day it left) or renewed, perhaps with more seats. Earlier anniversaries were
   * renewals. Drawn from a stream of its own, so every other field stays as it was.
   * Changes `customer` and `usage` in place.
   */
  function decide(index: number, customer: CustomerRow, usage: UsageRow[]): OutcomeRow[] {
    const draw = mulberry32(((options.seed >>> 0) ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
    const renewalDay = dayOf(customer.renewalDate);
    const createdDay = dayOf(customer.createdAt.slice(0, 10));
    const outcomes: OutcomeRow[] = [];
    for (let k = Math.floor((renewalDay - createdDay) / 365); k >= 2; k--) {
      const day = renewalDay - 365 * k;
      if (day >= createdDay + 300) outcomes.push({ orgId: customer.orgId, decidedOn: isoDay(day), outcome: 'renewed', seatsBefore: customer.userCount, seatsAfter: customer.userCount });
    }
    const decisionDay = renewalDay - 365;
    const at = decisionDay - (asOfDay - USAGE_DAYS); // index of the decision day in the usage window
    if (decisionDay < createdDay + 300 || decisionDay >= asOfDay) return outcomes;
    if (asOfDay - decisionDay > HIDDEN.decisionWindowDays || usage.length < at) {
      outcomes.push({ orgId: customer.orgId, decidedOn: isoDay(decisionDay), outcome: 'renewed', seatsBefore: customer.userCount, seatsAfter: customer.userCount });
      return outcomes;
    }
    const mean = (from: number, to: number) => usage.slice(from, to).reduce((n, u) => n + u.activeUsers, 0) / Math.max(1, to - from);
    const last4w = mean(at - 28, at);
    const drivers: DecisionDrivers = {
      trend: last4w / Math.max(0.5, mean(at - 56, at - 28)) - 1,
      utilization: last4w / Math.max(1, customer.userCount),
      tenureYears: (decisionDay - createdDay) / 365,
      seatPrice: customer.contractValueCents / Math.max(1, customer.userCount) / 100 / 12,
    };
    const p = (logit: number) => 1 / (1 + Math.exp(-logit));
    if (draw() < p(HIDDEN.churnLogit(drivers))) {
      customer.status = 'archived';
      customer.renewalDate = isoDay(decisionDay);
      usage.splice(at);
      outcomes.push({ orgId: customer.orgId, decidedOn: isoDay(decisionDay), outcome: 'churned', seatsBefore: customer.userCount, seatsAfter: 0 });
    } else {
      const before = customer.userCount;
      if (draw() < p(HIDDEN.expandLogit(drivers))) {
        customer.userCount = Math.round(before * (1.1 + draw() * 0.4)) + 1;
        customer.contractValueCents = Math.round((customer.contractValueCents / before) * customer.userCount);
      }
      outcomes.push({ orgId: customer.orgId, decidedOn: isoDay(decisionDay), outcome: 'renewed', seatsBefore: before, seatsAfter: customer.userCount });
    }
    return outcomes;
  }

  function customerAt(index: number): GeneratedCustomer {
    faker.seed([options.seed, index]);
    const orgId = orgIdFor(index);
    const orgName = faker.company.name().slice(0, 200);
    const firstName = faker.person.firstName();
    const lastName = faker.person.lastName();
    const domain = `${slug(orgName)}.example.com`;
    const owner = faker.helpers.arrayElement(DEMO_OWNERS);
    const userCount = Math.round(faker.number.float({ min: 5, max: 20, fractionDigits: 3 }) ** faker.number.float({ min: 1.2, max: 2.6, fractionDigits: 3 }));
    const seatPriceCents = faker.number.int({ min: 18, max: 120 }) * 100 * 12;
    const trend = faker.helpers.weightedArrayElement<Trend>([
      { value: 'growing', weight: 20 },
      { value: 'stable', weight: 55 },
      { value: 'declining', weight: 25 },
    ]);
    const customer: CustomerRow = {
      orgId,
      orgName,
      contactName: `${firstName} ${lastName}`,
      contactEmail: `${slug(firstName)}.${slug(lastName)}@${domain}`,
      contactPhone: `+${faker.helpers.arrayElement(['1', '44', '49', '33', '31'])} ${faker.string.numeric(3)} ${faker.string.numeric(3)} ${faker.string.numeric(4)}`,
      userCount,
      contractValueCents: userCount * seatPriceCents,
      currency: faker.helpers.weightedArrayElement([
        { value: 'EUR', weight: 50 },
        { value: 'USD', weight: 35 },
        { value: 'GBP', weight: 15 },
      ]),
      renewalDate: isoDay(asOfDay + faker.number.int({ min: 1, max: 400 })),
      ownerSub: owner.username,
      ownerName: owner.name,
      status: faker.number.int({ min: 0, max: 99 }) < 2 ? 'archived' : 'active',
      createdAt: `${isoDay(asOfDay - faker.number.int({ min: USAGE_DAYS + 10, max: 2000 }))}T09:00:00.000Z`,
    };

    const billing: BillingRow[] = [];
    const methods = faker.helpers.weightedArrayElement([
      { value: 1, weight: 80 },
      { value: 2, weight: 20 },
    ]);
    for (let m = 0; m < methods; m++) {
      billing.push({
        orgId,
        processorToken: `tok_${orgId.slice(4)}${m}_${faker.string.alphanumeric(20)}`,
        brand: faker.helpers.weightedArrayElement([
          { value: 'visa' as const, weight: 45 },
          { value: 'mastercard' as const, weight: 35 },
          { value: 'amex' as const, weight: 12 },
          { value: 'discover' as const, weight: 5 },
          { value: 'other' as const, weight: 3 },
        ]),
        last4: faker.string.numeric(4),
        expMonth: faker.number.int({ min: 1, max: 12 }),
        expYear: Number(options.asOf.slice(0, 4)) + faker.number.int({ min: 0, max: 5 }),
        billingEmail: `billing@${domain}`,
      });
    }

    // Usage: adoption of the seats, a trend over the period, quieter weekends, daily noise.
    const adoption = faker.number.float({ min: 0.35, max: 0.9 });
    const sessionsPerUser = faker.number.float({ min: 1.2, max: 3.5 });
    const eventsPerSession = faker.number.float({ min: 3, max: 12 });
    const trendStrength = faker.number.float({ min: 0.25, max: 0.65 });
    const rand = mulberry32(faker.number.int({ min: 0, max: 2 ** 31 - 1 }));
    const usage: UsageRow[] = [];
    if (index < usageCustomers) {
      for (let d = 0; d < USAGE_DAYS; d++) {
        const { iso, weekend } = window[d]!;
        const t = d / (USAGE_DAYS - 1);
        const trendFactor =
          trend === 'growing' ? 1 - trendStrength / 2 + trendStrength * t
          : trend === 'declining' ? (t < 0.5 ? 1 : 1 - trendStrength * 1.4 * (t - 0.5) * 2)
          : 1;
        const weekly = weekend ? 0.3 : 1;
        const noise = 0.88 + rand() * 0.24;
        const activeUsers = Math.max(0, Math.round(userCount * adoption * clamp(trendFactor, 0.05, 1.2) * weekly * noise));
        const sessions = Math.round(activeUsers * sessionsPerUser * (0.9 + rand() * 0.2));
        const featureEvents = Math.round(sessions * eventsPerSession * (0.85 + rand() * 0.3));
        usage.push({ orgId, day: iso, activeUsers, sessions, featureEvents });
      }
    }

    const outcomes = decide(index, customer, usage);

    return { customer, trend, billing, usage, outcomes };
  }

  return {
    customerAt,
    /** Customers in order, `batchSize` at a time. */
    *batches(batchSize: number): Generator<GeneratedCustomer[]> {
      for (let start = 0; start < options.customers; start += batchSize) {
        const batch: GeneratedCustomer[] = [];
        for (let i = start; i < Math.min(options.customers, start + batchSize); i++) batch.push(customerAt(i));
        yield batch;
      }
    },
  };
}
