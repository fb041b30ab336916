// Property: no card number is accepted or logged, in any field of any endpoint.
// For every endpoint of shared/http.ts (iterated, so a new one joins by itself)
// a valid request is generated from its zod schemas (the fuzz suite's
// derivation), as a caller the endpoint allows; then a Luhn-valid number of 13
// to 19 digits, plain or grouped, is put into one of its strings, numbers, keys
// or query parameters. Every such request must be refused with the card-number
// problem, change nothing, record no access, and leave no digit run of it in the
// log. The same request without the number is never refused as one.
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { OrgId } from '../../../shared/api';
import { endpoints, pathFor, type Endpoint, type EndpointName } from '../../../shared/http';
import { seedBilling, seedCustomer } from '../../../testing/db';
import { arbitraryFor, type Hints } from '../fuzz/arbitraries';
import { CUSTOMER_ORG, dbState, startHarness, type Harness, type Principal } from './harness';

const RUNS = Number(process.env.PAN_PROPERTY_RUNS ?? 15);
const lines: string[] = [];
let h: Harness;

beforeAll(async () => {
  h = await startHarness({
    logger: { level: 'info', sink: { write: (l) => void lines.push(l) } },
    rateLimit: { max: 1_000_000, timeWindowMs: 60_000 },
  });
  await seedCustomer(h.db.admin, { orgId: CUSTOMER_ORG, ownerSub: 'alice', ownerName: 'Alice Adams' });
  await seedBilling(h.db.admin, CUSTOMER_ORG);
}, 120_000);
afterAll(() => h?.close());

/** A caller each kind of access lets through, so the refusal is the guard's and nothing else's. */
function callerFor(e: Endpoint): Principal {
  if (e.access === 'service') return 'service';
  if (e.access === 'human') return 'owner';
  if (e.access === 'public') return 'none';
  const byRole: Record<string, Principal> = { crm: 'owner', support_lead: 'lead', admin: 'admin', customer: 'customer' };
  return byRole[e.access[0]!]!;
}

/** The digit that makes `payload` followed by it pass the Luhn check. */
function luhnCheckDigit(payload: number[]): number {
  let sum = 0;
  for (let i = 0; i < payload.length; i++) {
    // Counted from the right of the whole number, whose last digit is the check digit: these are doubled first.
    let d = payload[payload.length - 1 - i]!;
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

/** A Luhn-valid number of 13 to 19 digits, as people write cards: plain, or in groups of four. */
const pan = fc
  .tuple(fc.integer({ min: 1, max: 9 }), fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 11, maxLength: 17 }), fc.constantFrom('', ' ', '-'))
  .map(([first, rest, sep]) => {
    const payload = [first, ...rest];
    const digits = [...payload, luhnCheckDigit(payload)].join('');
    return { digits, text: sep ? digits.replace(/(\d{4})(?=\d)/g, `$1${sep}`) : digits };
  });

/** Text around the number that ends the digit run (no digit, space or dash at the seam). */
const edge = fc.constantFrom('', 'card ', 'x', ':', '(', '/', 'nº ', '"');

type Path = (string | number)[];
function leaves(v: unknown, path: Path = [], out: { path: Path; value: unknown }[] = []) {
  if (Array.isArray(v)) v.forEach((x, i) => leaves(x, [...path, i], out));
  else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) leaves(x, [...path, k], out);
  else out.push({ path, value: v });
  return out;
}
function setAt(root: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = (Array.isArray(root) ? [...root] : { ...(root as object) }) as Record<string | number, unknown>;
  const [head, ...rest] = path;
  copy[head!] = setAt(copy[head!], rest, value);
  return copy;
}

const hints: Hints = new Map([[OrgId as never, fc.constant(CUSTOMER_ORG)]]);

interface Placed {
  where: string;
  url: string;
  payload?: string;
}

/** A valid request to `e`, and the same with the number put into one of its fields. */
function requests(e: Endpoint): fc.Arbitrary<{ plain: Placed; withPan: Placed; pan: string }> {
  const params = e.params ? arbitraryFor(e.params, hints) : fc.constant({});
  const query = e.query ? arbitraryFor(e.query, hints) : fc.constant({});
  const body = e.body ? arbitraryFor(e.body, hints) : fc.constant(undefined);
  return fc.record({ params, query, body, pan, left: edge, right: edge, pick: fc.nat(), as: fc.nat({ max: 3 }) }).map((g) => {
    const url = pathFor(e, g.params as Record<string, string>);
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(g.query as Record<string, unknown>)) if (v !== undefined) q.append(k, typeof v === 'string' ? v : JSON.stringify(v));
    const withQuery = (params: URLSearchParams) => (params.size ? `${url}?${params}` : url);
    const plain: Placed = { where: 'plain', url: withQuery(q), ...(e.body ? { payload: JSON.stringify(g.body) } : {}) };
    const inText = `${g.left}${g.pan.text}${g.right}`;
    if (e.body) {
      const fields = leaves(g.body).filter((l) => typeof l.value === 'string' || typeof l.value === 'number');
      const target = fields[g.pick % Math.max(fields.length, 1)];
      if (g.as === 3 || !target) {
        // As a key of the body's top level.
        const payload = JSON.stringify({ ...(g.body as object), [inText]: 1 });
        return { plain, withPan: { where: 'key', url: plain.url, payload }, pan: g.pan.digits };
      }
      if (typeof target.value === 'number' && g.as === 2) {
        // As a bare JSON number in place of a number (raw text: 19 digits are past what a double holds exactly).
        const marker = '"__pan_marker__"';
        const payload = JSON.stringify(setAt(g.body, target.path, '__pan_marker__')).replace(marker, g.pan.digits);
        return { plain, withPan: { where: `number ${target.path.join('.')}`, url: plain.url, payload }, pan: g.pan.digits };
      }
      const value = typeof target.value === 'string' && g.as === 1 ? `${target.value}${g.left ? g.left : ' / '}${g.pan.text}` : inText;
      const payload = JSON.stringify(setAt(g.body, target.path, value));
      return { plain, withPan: { where: `string ${target.path.join('.')}`, url: plain.url, payload }, pan: g.pan.digits };
    }
    // No body: a query parameter, one the endpoint knows when it has some.
    const keys = [...q.keys()];
    const withPanQuery = new URLSearchParams(q);
    const key = keys.length && g.as < 3 ? keys[g.pick % keys.length]! : 'note';
    withPanQuery.set(key, inText);
    return { plain, withPan: { where: `query ${key}`, url: withQuery(withPanQuery) }, pan: g.pan.digits };
  });
}

const accessCount = async () => Number((await h.db.admin.query<{ n: string }>('SELECT count(*) AS n FROM audit.access_events')).rows[0]?.n);

const names = (Object.keys(endpoints) as EndpointName[]).filter((n) => endpoints[n].access !== 'public');

it.each(names)('%s accepts no card number in any field, and logs none', async (name) => {
  const e: Endpoint = endpoints[name];
  const who = callerFor(e);
  await fc.assert(
    fc.asyncProperty(requests(e), async ({ plain, withPan, pan: digits }) => {
      const before = await dbState(h.db);
      const accessBefore = await accessCount();
      lines.length = 0;
      const headers = { ...(withPan.payload !== undefined ? { 'content-type': 'application/json' } : {}), ...(e.ifMatch ? { 'if-match': '"1"' } : {}) };
      const res = await h.call(who, e.method, withPan.url, { headers, ...(withPan.payload !== undefined ? { payload: withPan.payload } : {}) });
      expect(res.statusCode, `${withPan.where}: ${res.body}`).toBe(400);
      expect(res.json().type).toBe('urn:cims:problem:card-number');
      expect(await dbState(h.db)).toBe(before);
      expect(await accessCount()).toBe(accessBefore);
      // No eight digits of it in a row anywhere in the log (nor in the answer); the log's own clock fields aside.
      const logged = lines.map((l) => JSON.stringify({ ...JSON.parse(l), time: 0, pid: 0, responseTime: 0 })).join('\n').replace(/[ -]/g, '');
      for (let i = 0; i + 8 <= digits.length; i++) {
        expect(logged).not.toContain(digits.slice(i, i + 8));
        expect(res.body).not.toContain(digits.slice(i, i + 8));
      }
      // The same request without it is not refused as a card number (the guard refuses what it must, not everything).
      // A stream would answer forever: those were shown to refuse, which is what this property is about.
      if (e.produces === 'text/event-stream') return;
      const ok = await h.call(who, e.method, plain.url, { headers, ...(plain.payload !== undefined ? { payload: plain.payload } : {}) });
      if (ok.statusCode === 400) expect(ok.json().type).not.toBe('urn:cims:problem:card-number');
    }),
    { numRuns: RUNS },
  );
}, 120_000);
