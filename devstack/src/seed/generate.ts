// Deterministic demo data: the same seed, index and as-of date always give the
// same customer, billing methods, usage and predictions. Each customer draws
// from its own seeded faker stream ([seed, index]), so data can be generated
// in any batch size, in order, for a million customers without holding them.
import { Faker, en } from '@faker-js/faker';
import type { Prediction, PredictionKind } from '../../../shared/api';
import { DEMO_OWNERS } from './demo-accounts';

export const MAX_CUSTOMERS = 1_000_000;
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

export interface GeneratedCustomer {
  customer: CustomerRow;
  trend: Trend;
  billing: BillingRow[];
  usage: UsageRow[];
  predictions: Prediction[];
}

export const MODELS: Record<PredictionKind, { modelName: string; modelVersion: string }> = {
  churn_risk: { modelName: 'churn-gbm', modelVersion: '2026.11.2' },
  upsell_propensity: { modelName: 'upsell-gbm', modelVersion: '2026.11.1' },
};

const DAY_MS = 86_400_000;
const dayOf = (iso: string): number => Date.parse(`${iso}T00:00:00Z`) / DAY_MS;
const isoDay = (day: number): string => new Date(day * DAY_MS).toISOString().slice(0, 10);
const round3 = (x: number): number => Math.round(x * 1000) / 1000;
const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

/** ORG-000001 … ORG-999999, then ORG-000000: exactly a million ids in the contract's format. */
export const orgIdFor = (index: number): string => `ORG-${String((index + 1) % MAX_CUSTOMERS).padStart(6, '0')}`;

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
  const scoredAt = `${isoDay(asOfDay)}T06:00:00.000Z`;
  // The usage window's dates and weekend flags, computed once (formatting dates per row is the slow part).
  const window = Array.from({ length: USAGE_DAYS }, (_, d) => {
    const day = asOfDay - USAGE_DAYS + d;
    const weekday = ((day % 7) + 7 + 4) % 7; // 0 = Sunday (1970-01-01 was a Thursday)
    return { iso: isoDay(day), weekend: weekday === 0 || weekday === 6 };
  });

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
    let first30 = 0;
    let last30 = 0;
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
        if (d < 30) first30 += activeUsers;
        if (d >= USAGE_DAYS - 30) last30 += activeUsers;
      }
    }

    // Predictions follow the usage story: falling use means churn risk, strong growth means upsell.
    const change = first30 > 0 ? last30 / first30 - 1 : trend === 'declining' ? -0.4 : trend === 'growing' ? 0.3 : 0;
    const daysToRenewal = dayOf(customer.renewalDate) - asOfDay;
    const churn = clamp(0.12 - change * 0.9 + (daysToRenewal < 60 ? 0.08 : 0) + faker.number.float({ min: -0.06, max: 0.06 }), 0.01, 0.98);
    const upsell = clamp(0.2 + change * 0.8 + adoption * 0.3 + faker.number.float({ min: -0.08, max: 0.08 }), 0.01, 0.97);
    const predictions: Prediction[] = [
      {
        orgId,
        kind: 'churn_risk',
        ...MODELS.churn_risk,
        score: round3(churn),
        topFactors: [
          { factor: 'active_users_trend_30d', weight: round3(clamp(-change, -1, 1)) },
          { factor: 'days_to_renewal', weight: round3(daysToRenewal < 60 ? 0.3 : -0.1) },
          { factor: 'seat_utilization', weight: round3(clamp(0.5 - adoption, -1, 1)) },
        ],
        scoredAt,
      },
      {
        orgId,
        kind: 'upsell_propensity',
        ...MODELS.upsell_propensity,
        score: round3(upsell),
        topFactors: [
          { factor: 'seat_utilization', weight: round3(clamp(adoption - 0.4, -1, 1)) },
          { factor: 'active_users_trend_30d', weight: round3(clamp(change, -1, 1)) },
        ],
        scoredAt,
      },
    ];
    return { customer, trend, billing, usage, predictions };
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
