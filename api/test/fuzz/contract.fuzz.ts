// Fuzzing every endpoint of the shared contract (shared/http.ts, iterated, so a
// new endpoint joins by itself) as every kind of caller, against the real API
// on PostgreSQL. Requests are derived from each endpoint's zod schemas with
// fast-check, and about a third carry a hostile value inside an otherwise valid
// shape (NUL, lone surrogates, invalid UTF-8 bytes, huge numbers, deep JSON,
// prototype keys, huge arrays), so they get past the first validation.
//
// The app is built in-process (buildApp through the api tests' harness: a
// scratch database, the test issuer) and driven with app.inject: the same
// Fastify lifecycle as a socket, without the socket's cost, which is what makes
// 100,000 requests fit in CI's minutes. Nothing listens on a port.
//
// Checked on every response: no 5xx; the status is one the contract declares,
// and the body matches its schema (errors: problem+json); no billing field but
// brand, last four and expiry, in any body. Writes run one at a time (reads
// alongside), so a fingerprint of the tables before and after tells what each
// write did: a refused write changed nothing, a successful one that changed
// data wrote exactly one audit event, one that changed nothing wrote none.
//
// FUZZ_REQUESTS (default 100000), FUZZ_SEED (default: random, printed),
// FUZZ_TIME_LIMIT_S (default 1200; the run stops there and fails short of its count).
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { AssignmentResult, ChangeRequestId, Cursor, OrgId, PredictionFeedback, StaffSub } from '../../../shared/api';
import { endpoints, pathFor, type Endpoint } from '../../../shared/http';
import { seedBilling, seedCustomer, seedPrediction, seedUsage } from '../../../testing/db';
import { CONSOLE_CLIENT_ID, CUSTOMER_ORG, OTHER_CUSTOMER_ORG, startHarness, type Harness, type Principal } from '../http/harness';
import type { TokenClaims } from '../../../testing/issuer';
import { arbitraryFor, invalidUtf8Body, mutation, type Hints } from './arbitraries';
import { BILLING_EMAIL, billingLeak, contractViolation, writeViolation, type Fingerprint } from './checks';

const COUNT = Number(process.env.FUZZ_REQUESTS ?? 100_000);
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const TIME_LIMIT_MS = Number(process.env.FUZZ_TIME_LIMIT_S ?? 1200) * 1000;
const CONCURRENCY = 16;
const CHUNK = 1000;

/** Seeded customers: Alice (the owner) has 1-6, Carol (another CRM) 7-9, 10 is archived. */
const ORGS = Array.from({ length: 10 }, (_v, i) => `ORG-${String(i + 1).padStart(6, '0')}`);
/** Every customer's seeded prediction, so that feedback can name one. */
const SEEDED_PREDICTION = { kind: 'churn_risk', modelName: 'churn-gbm', modelVersion: '1.0.0', scoredAt: '2026-11-30T08:00:00.000Z' } as const;

/**
 * Every endpoint is drawn equally often (a new one too), except those whose allowed calls go over the
 * whole trail, which every read of the run makes longer (exports stream it, verification seals, signs
 * and recomputes it): at full weight they would take most of the run's time.
 */
const weightOf = (name: keyof typeof endpoints, e: Endpoint): number => (e.produces || name === 'audit.verify' ? 1 : 20);

/** Tokens the real issuer signed whose claims are hostile: an identity provider may let people pick their display name. */
const HOSTILE_CLAIMS: readonly Record<string, unknown>[] = [
  { sub: 'alice', name: 'Alice\u0000Adams', roles: ['crm'] },
  { sub: 'bob', name: 'Bob \ud800', roles: ['support_lead'] },
  { sub: 'x'.repeat(300), name: 'Long', roles: ['crm'] },
  { sub: 'alice', name: 'Alice', roles: 'crm' },
  { sub: 'alice', name: 'Alice', roles: [['crm'], { admin: true }] },
  { sub: '', name: '', roles: ['crm', 'support_lead', 'admin', 'root'] },
  { sub: 'alice\u0000', name: 'Alice', roles: ['crm'] },
];

type Caller = Principal | 'garbage' | 'unsigned' | 'hostileClaims';
const CALLERS: readonly Caller[] = ['none', 'expired', 'wrongAudience', 'wrongIssuer', 'garbage', 'unsigned', 'hostileClaims', 'owner', 'otherCrm', 'lead', 'admin', 'service', 'customer', 'otherCustomer'];
/** The organization a customer caller's token names: /v1/self's If-Match and ETag are that record's version. */
const SELF_ORGS: Partial<Record<Caller, string>> = { customer: CUSTOMER_ORG, otherCustomer: OTHER_CUSTOMER_ORG };
/** Content types a JSON body may be sent with that the API must answer without parsing it as JSON, or parse right. */
const CONTENT_TYPES = [
  'text/plain',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'APPLICATION/JSON',
  'application/json, text/plain',
  'application/merge-patch+json',
  '',
];
/** Header values worth sending: the API records the request id and app version in every event. */
const HOSTILE_HEADERS: readonly string[] = ['a'.repeat(64), 'a'.repeat(65), 'x'.repeat(4000), '../../etc', "'; DROP TABLE x; --", '%00', '$(id)', '', ' '];

function allowedCallers(e: Endpoint): readonly Caller[] {
  if (e.access === 'public') return CALLERS;
  if (e.access === 'human') return ['owner', 'otherCrm', 'lead', 'admin'];
  if (e.access === 'service') return ['service'];
  const byRole: Record<string, Caller[]> = { crm: ['owner', 'otherCrm'], support_lead: ['lead'], admin: ['admin'], customer: ['customer', 'otherCustomer'] };
  return e.access.flatMap((r) => byRole[r] ?? []);
}

interface FuzzRequest {
  name: string;
  caller: Caller;
  method: Endpoint['method'];
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
  /** Which If-Match it sends, to pick the version when it runs. */
  ifMatch?: 'current' | 'stale' | 'none' | 'garbage';
  /** Which hostile-claims token, when the caller is hostileClaims. */
  claims: number;
  orgId?: string;
}

const cursorOf = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const hints: Hints = new Map<never, fc.Arbitrary<unknown>>([
  // Change requests are numbered from 1 as the run's edits, archives and un-archives make them.
  [ChangeRequestId as never, fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 1, max: 30 }).map(String) }, { weight: 1, arbitrary: fc.stringMatching(/^[1-9][0-9]{0,18}$/) })],
  // The CRMs who own customers, so assignments move some (an admin may move customers back and forth).
  [StaffSub as never, fc.oneof({ weight: 6, arbitrary: fc.constantFrom('alice', 'carol') }, { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 20 }) })],
  // Feedback on the seeded prediction, or on one that does not exist.
  [
    PredictionFeedback as never,
    fc.oneof(
      { weight: 3, arbitrary: fc.string({ minLength: 3, maxLength: 60 }).map((reason) => ({ ...SEEDED_PREDICTION, verdict: 'looks_wrong', reason })) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('churn_risk', 'upsell_propensity'), modelName: fc.string({ minLength: 1, maxLength: 20 }), modelVersion: fc.constantFrom('1.0.0', '2.0.0'), scoredAt: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), verdict: fc.constant('looks_wrong'), reason: fc.string({ minLength: 3, maxLength: 60 }) }) },
    ),
  ],
  [OrgId as never, fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...ORGS) }, { weight: 1, arbitrary: fc.constant('ORG-999999') }, { weight: 2, arbitrary: fc.stringMatching(/^ORG-[0-9]{6,12}$/) })],
  // Cursors in the shapes the API hands out (and a few that are not), so paging paths run too.
  [
    Cursor as never,
    fc.oneof(
      fc.bigInt({ min: 0n, max: 10n ** 19n }).map((b) => cursorOf({ b: String(b) })),
      fc.record({ s: fc.constantFrom('name', 'renewal', 'churnRisk'), k: fc.string({ maxLength: 20 }), i: fc.constantFrom(...ORGS) }).map(cursorOf),
      fc.string({ maxLength: 40 }),
    ),
  ],
]);

/** `arb` in `yes` of `yes + no` draws, null otherwise. */
const sometimes = <T>(yes: number, no: number, arb: fc.Arbitrary<T>): fc.Arbitrary<T | null> =>
  fc.oneof({ weight: no, arbitrary: fc.constant(null) }, { weight: yes, arbitrary: arb });

const queryText = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

function requestArbitrary(name: string, e: Endpoint): fc.Arbitrary<FuzzRequest> {
  const params = e.params ? arbitraryFor(e.params, hints) : fc.constant({});
  const query = e.query ? arbitraryFor(e.query, hints) : fc.constant({});
  const body = e.body ? arbitraryFor(e.body, hints) : fc.constant(undefined);
  const caller = fc.oneof(fc.constantFrom(...allowedCallers(e)), fc.constantFrom(...CALLERS));
  // About one query in five and one body in three carry something hostile.
  const queryHostility = sometimes(
    1,
    4,
    fc.oneof(
      fc.constant((q: URLSearchParams) => q.append('unknown', '1')),
      fc.constant((q: URLSearchParams) => q.append([...q.keys()][0] ?? 'q', 'again')),
      fc.constantFrom('\u0000', '\ud800', 'x'.repeat(5000), '1e999', '-0', 'NaN').map((s) => (q: URLSearchParams) => {
        const k = [...q.keys()][0];
        if (k) q.set(k, s);
      }),
    ),
  );
  const bodyHostility = sometimes(1, 2, fc.oneof({ weight: 10, arbitrary: mutation }, { weight: 1, arbitrary: fc.constant('utf8' as const) }, { weight: 1, arbitrary: fc.constant('type' as const) }));
  const ifMatch = fc.constantFrom('current', 'current', 'current', 'current', 'stale', 'none', 'garbage') as fc.Arbitrary<NonNullable<FuzzRequest['ifMatch']>>;
  const headerHostility = sometimes(
    1,
    9,
    fc.record({ name: fc.constantFrom('x-request-id', 'x-cims-app-version', 'x-forwarded-for', 'accept'), value: fc.constantFrom(...HOSTILE_HEADERS) }),
  );
  const claims = fc.nat({ max: HOSTILE_CLAIMS.length - 1 });
  return fc.record({ params, query, body, caller, queryHostility, bodyHostility, headerHostility, ifMatch, claims }).map((g) => {
    const p = g.params as Record<string, string>;
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(g.query as Record<string, unknown>)) if (v !== undefined) q.append(k, queryText(v));
    g.queryHostility?.(q);
    const headers: Record<string, string> = g.headerHostility ? { [g.headerHostility.name]: g.headerHostility.value } : {};
    let payload: string | Buffer | undefined;
    if (e.body) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(g.body);
      if (g.bodyHostility === 'utf8') payload = invalidUtf8Body(payload);
      else if (g.bodyHostility === 'type') headers['content-type'] = CONTENT_TYPES[payload.length % CONTENT_TYPES.length]!;
      else if (g.bodyHostility) {
        const m = g.bodyHostility(g.body);
        payload = m.raw ?? JSON.stringify(m.value);
      }
    }
    const qs = q.toString();
    return {
      name,
      caller: g.caller,
      claims: g.claims,
      method: e.method,
      url: pathFor(e, p) + (qs ? `?${qs}` : ''),
      headers,
      ...(payload !== undefined ? { payload } : {}),
      // A change request's If-Match is its own version, kept under cr:<id> beside the customers' (a new request is at 1).
      ...(e.ifMatch ? { ifMatch: g.ifMatch, orgId: p.orgId ?? (p.id ? `cr:${p.id}` : undefined) } : {}),
    };
  });
}

let h: Harness;
const versions = new Map<string, number>();
let hostileTokens: string[] = [];

beforeAll(async () => {
  // The rate limit answers 429 long before 100,000 requests; here the handlers are under test.
  // With the approval rules a deployment starts with, so edits, archives and decisions of change requests are fuzzed too.
  // Change streams (GET /v1/events) end at once: inject waits for the whole body.
  h = await startHarness({ rateLimit: { max: 1_000_000_000, timeWindowMs: 60_000 }, live: { maxStreamMs: 20 } }, { poolSize: CONCURRENCY, approvalRules: 'seeded' });
  for (const [i, orgId] of ORGS.entries()) {
    const owner = i < 6 ? { ownerSub: 'alice', ownerName: 'Alice Adams' } : { ownerSub: 'carol', ownerName: 'Carol Chen' };
    await seedCustomer(h.db.admin, { orgId, ...owner, status: i === 9 ? 'archived' : 'active', latestChurnRisk: i / 10 });
    await seedBilling(h.db.admin, orgId, { email: BILLING_EMAIL });
    await seedUsage(h.db.admin, orgId, 40);
    await seedPrediction(h.db.admin, { orgId, score: 0.5, ...SEEDED_PREDICTION });
    versions.set(orgId, 1);
  }
  await renewTokens();
}, 120_000);
afterAll(() => h?.close());

// Cheap enough to take around every write: any insert adds to a count, any update of a customer raises its version.
const FINGERPRINT = `SELECT (SELECT count(*) || ':' || coalesce(sum(version), 0) || ':' || coalesce(max(updated_at)::text, '') FROM core.customers) AS customers,
                            (SELECT count(*) FROM core.predictions) AS predictions,
                            (SELECT count(*) FROM core.prediction_feedback) AS feedback,
                            (SELECT count(*) FROM core.billing_methods) AS billing,
                            (SELECT count(*) || ':' || coalesce(sum(version), 0) FROM core.change_requests) AS requests,
                            (SELECT count(*) FROM audit.events)::int AS events`;
async function fingerprint(): Promise<Fingerprint> {
  const { rows } = await h.db.admin.query<{ customers: string; predictions: string; feedback: string; billing: string; requests: string; events: number }>(FINGERPRINT);
  const r = rows[0]!;
  return { data: `${r.customers}|${r.predictions}|${r.feedback}|${r.billing}|${r.requests}`, events: r.events };
}

/** Tokens live 5 minutes, a run longer: every caller's are signed again each minute. */
let renewedAt = 0;
async function renewTokens(): Promise<void> {
  await h.renewTokens();
  hostileTokens = await Promise.all(
    HOSTILE_CLAIMS.map((c) => h.issuer.sign({ scope: 'openid profile', client_id: CONSOLE_CLIENT_ID, ...c } as unknown as TokenClaims)),
  );
  renewedAt = Date.now();
}

const GARBAGE_TOKEN = 'not.a.jwt';
// {"alg":"none"} over the owner's claims: a token nobody signed.
const unsignedToken = (sub: string) =>
  `${Buffer.from('{"alg":"none","typ":"at+jwt"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub, roles: ['crm', 'support_lead', 'admin'], aud: 'urn:cims:api', exp: 4_102_444_800 })).toString('base64url')}.`;

it(`fuzzes every endpoint as every caller (${COUNT} requests)`, async () => {
  const names = Object.keys(endpoints) as (keyof typeof endpoints)[];
  const one = fc.oneof(...names.map((n) => ({ weight: weightOf(n, endpoints[n] as Endpoint), arbitrary: requestArbitrary(n, endpoints[n] as Endpoint) })));
  const byStatus: Record<string, number> = {};
  const byEndpoint: Record<string, Record<string, number>> = {};
  const byCaller: Record<string, Record<string, number>> = {};
  const msByEndpoint: Record<string, number> = {};
  const violations: string[] = [];
  let violationCount = 0;
  let sent = 0;
  const started = Date.now();
  let last = await fingerprint();

  const record = (req: FuzzRequest, index: number, why: string) => {
    violationCount++;
    if (violations.length < 25) {
      const body = typeof req.payload === 'string' ? req.payload.slice(0, 300) : req.payload ? `<${req.payload.length} bytes>` : '';
      violations.push(`#${index} ${req.name} as ${req.caller}: ${req.method} ${req.url.slice(0, 200)} ${body} → ${why}`);
    }
  };

  const send = async (req: FuzzRequest): Promise<LightMyRequestResponse> => {
    const headers = { ...req.headers };
    const token =
      req.caller === 'garbage'
        ? GARBAGE_TOKEN
        : req.caller === 'unsigned'
          ? unsignedToken('alice')
          : req.caller === 'hostileClaims'
            ? hostileTokens[req.claims]
            : h.tokens[req.caller];
    if (token) headers.authorization = `Bearer ${token}`;
    const orgId = req.orgId ?? (req.url.startsWith('/v1/self/') ? SELF_ORGS[req.caller] : undefined);
    if (req.ifMatch && orgId) {
      const v = versions.get(orgId) ?? 1;
      if (req.ifMatch === 'current') headers['if-match'] = `"${v}"`;
      if (req.ifMatch === 'stale') headers['if-match'] = `"${Math.max(v - 1, 0)}"`;
      if (req.ifMatch === 'garbage') headers['if-match'] = ['*', 'W/"1"', '"abc"', '"99999999999999999999"', '1'][v % 5]!;
    }
    const res = await h.app.inject({ method: req.method, url: req.url, headers, ...(req.payload !== undefined ? { payload: req.payload } : {}) });
    const etag = /^"(\d+)"$/.exec(String(res.headers.etag ?? ''));
    if (etag && orgId && res.statusCode < 300) versions.set(orgId, Math.max(versions.get(orgId) ?? 0, Number(etag[1])));
    // An assignment raises the version of every customer it moved, and says so in its answer.
    if (req.name === 'assignments.create' && res.statusCode === 200) {
      const moved = AssignmentResult.safeParse(res.json());
      for (const m of moved.success ? moved.data.moved : []) versions.set(m.orgId, Math.max(versions.get(m.orgId) ?? 0, m.version));
    }
    return res;
  };

  const check = async (req: FuzzRequest, index: number) => {
    const e = endpoints[req.name as keyof typeof endpoints] as Endpoint;
    const write = e.method !== 'GET';
    const t0 = performance.now();
    let res: LightMyRequestResponse;
    let wrote: { before: Fingerprint; after: Fingerprint } | null = null;
    if (write) {
      // Writes run one at a time, with nothing else in flight: the fingerprint around each is its own.
      const before = last;
      res = await send(req);
      last = await fingerprint();
      wrote = { before, after: last };
    } else {
      res = await send(req);
    }
    msByEndpoint[req.name] = (msByEndpoint[req.name] ?? 0) + performance.now() - t0;
    const status = String(res.statusCode);
    byStatus[status] = (byStatus[status] ?? 0) + 1;
    (byEndpoint[req.name] ??= {})[status] = (byEndpoint[req.name]![status] ?? 0) + 1;
    (byCaller[req.caller] ??= {})[status] = (byCaller[req.caller]![status] ?? 0) + 1;
    const { why, json } = contractViolation(e, res);
    if (why) record(req, index, `${why}; ${res.body.slice(0, 300)}`);
    // The OpenAPI document names processorToken as a field of PUT /v1/self/billing-method's body: a schema, not data.
    const leak = req.name === 'system.openapi' ? null : billingLeak(res.body, json);
    if (leak) record(req, index, `billing data beyond brand, last four and expiry: ${leak}`);
    // An assignment writes one event per customer it moved.
    const moved = req.name === 'assignments.create' && res.statusCode === 200 ? AssignmentResult.safeParse(json) : null;
    const writeWrong = wrote ? writeViolation(res.statusCode, wrote.before, wrote.after, moved?.success ? moved.data.moved.length : 1) : '';
    if (writeWrong) record(req, index, writeWrong);
  };

  for (let chunk = 0; sent < COUNT && Date.now() - started < TIME_LIMIT_MS; chunk++) {
    if (Date.now() - renewedAt > 60_000) await renewTokens();
    const batch = fc.sample(one, { seed: SEED + chunk, numRuns: Math.min(CHUNK, COUNT - sent) });
    const base = sent;
    const isWrite = (r: FuzzRequest) => r.method !== 'GET';
    // Reads of the chunk many at a time, then its writes one by one.
    const reads = batch.flatMap((r, i) => (isWrite(r) ? [] : [i]));
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < reads.length && Date.now() - started < TIME_LIMIT_MS) {
          const i = reads[next++]!;
          await check(batch[i]!, base + i);
          sent++;
        }
      }),
    );
    for (const [i, r] of batch.entries()) {
      if (!isWrite(r) || Date.now() - started >= TIME_LIMIT_MS) continue;
      await check(r, base + i);
      sent++;
    }
  }

  // Whatever the fuzzing did, the trail still verifies.
  await renewTokens();
  const verify = await h.app.inject({ method: 'GET', url: '/v1/audit/verify', headers: { authorization: `Bearer ${h.tokens.lead}` } });
  const trail = verify.json() as { ok: boolean };
  if (verify.statusCode !== 200 || !trail.ok) violations.push(`after the run the trail does not verify: ${verify.body.slice(0, 300)}`);

  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const statuses = Object.entries(byStatus).sort().map(([s, n]) => `${s}: ${n}`).join(', ');
  console.log(`fuzz: ${sent} requests in ${seconds} s, seed ${SEED}; by status ${statuses}; violations ${violationCount}`);
  console.log(`fuzz by endpoint: ${JSON.stringify(byEndpoint)}`);
  console.log(`fuzz by caller: ${JSON.stringify(byCaller)}`);
  const slowest = Object.entries(msByEndpoint).sort((a, b) => b[1] - a[1]).slice(0, 6);
  console.log(`fuzz time by endpoint (s, summed over concurrent requests): ${slowest.map(([n, ms]) => `${n} ${(ms / 1000).toFixed(1)}`).join(', ')}`);
  if (violations.length) console.log(`fuzz violations (first ${violations.length}, FUZZ_SEED=${SEED} reproduces):\n${violations.join('\n')}`);
  expect(violations).toEqual([]);
  expect(Object.keys(byEndpoint).sort()).toEqual(names.slice().sort());
  expect(sent, `only ${sent} of ${COUNT} requests within ${TIME_LIMIT_MS / 1000} s`).toBe(COUNT);
});
