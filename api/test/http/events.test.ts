// GET /v1/events over a real socket: the API's one listener on the test
// database, fan-out to the streams of the callers who may read each change,
// resume with Last-Event-ID, heartbeats, the end at the token's expiry, and a
// shutdown that ends open streams instead of waiting for them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveChange } from '../../../shared/live';
import { pgChangeSource, type ChangeSource } from '../../src/live/listener';
import { actors, seedCustomer, testContext } from '../../../testing/db';
import { CONSOLE_CLIENT_ID, expectProblem, startHarness, type Harness } from './harness';

let h: Harness;
let base: string;
let source: ChangeSource | null = null;
// The listener needs the harness's database, which exists only once the harness does; the hub starts it on first use.
const deferred: ChangeSource = {
  start: (handlers) => source!.start(handlers),
  close: async () => source?.close(),
};

beforeAll(async () => {
  h = await startHarness({ changes: deferred, live: { heartbeatMs: 200, maxStreamsPerSubject: 3 } });
  source = pgChangeSource(h.db.apiUrl);
  await h.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(h.app.server.address() as { port: number }).port}`;
  for (const orgId of ['ORG-000501', 'ORG-000502']) await seedCustomer(h.db.admin, { orgId, ownerSub: 'alice', ownerName: 'Alice Adams' });
  await seedCustomer(h.db.admin, { orgId: 'ORG-000503', ownerSub: 'carol', ownerName: 'Carol Chen' });
});
afterAll(() => h?.close());

interface Frame {
  event: string;
  id?: string;
  data?: string;
  comment?: boolean;
}

/** An open stream: frames as they arrive, and a way to wait for one. */
interface Stream {
  status: number;
  headers: Headers;
  frames: Frame[];
  ended: Promise<void>;
  waitFor(pred: (f: Frame) => boolean, ms?: number): Promise<Frame>;
  close(): void;
}

async function open(token: string | null, headers: Record<string, string> = {}): Promise<Stream> {
  const ac = new AbortController();
  const res = await fetch(`${base}/v1/events`, {
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), accept: 'text/event-stream', ...headers },
    signal: ac.signal,
  });
  const frames: Frame[] = [];
  const waiters = new Set<() => void>();
  const ended = (async () => {
    if (!res.body) return;
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        let at: number;
        while ((at = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, at);
          buf = buf.slice(at + 2);
          const f: Frame = { event: 'message' };
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) f.comment = true;
            else if (line.startsWith('event: ')) f.event = line.slice(7);
            else if (line.startsWith('id: ')) f.id = line.slice(4);
            else if (line.startsWith('data: ')) f.data = line.slice(6);
          }
          frames.push(f);
          for (const w of waiters) w();
        }
      }
    } catch {
      // aborted by close()
    }
  })();
  return {
    status: res.status,
    headers: res.headers,
    frames,
    ended,
    close: () => ac.abort(),
    waitFor(pred, ms = 3_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const f = frames.find(pred);
          if (!f) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(f);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching frame within ${ms} ms; got ${JSON.stringify(frames)}`));
        }, ms);
        waiters.add(check);
        check();
      });
    },
  };
}

const changes = (s: Stream) => s.frames.filter((f) => f.event === 'change').map((f) => LiveChange.parse(JSON.parse(f.data ?? '')));
const connected = (s: Stream) => s.waitFor((f) => f.comment === true);
const version = async (orgId: string) =>
  (await h.db.admin.query<{ version: number }>('SELECT version FROM core.customers WHERE org_id = $1', [orgId])).rows[0]!.version;

describe('GET /v1/events', () => {
  it('answers an event stream that is not cached or buffered', async () => {
    const s = await open(h.tokens.owner);
    expect(s.status).toBe(200);
    expect(s.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(s.headers.get('cache-control')).toBe('no-store');
    expect(s.headers.get('x-accel-buffering')).toBe('no');
    s.close();
  });

  it('refuses a caller without a token (401) and a service account (403)', async () => {
    expectProblem(await h.call('none', 'GET', '/v1/events'), 401);
    expectProblem(await h.call('service', 'GET', '/v1/events'), 403);
  });

  it("tells the owner, and a support lead, of a save within moments; another CRM hears nothing of it", async () => {
    const [owner, other, lead] = await Promise.all([open(h.tokens.owner), open(h.tokens.otherCrm), open(h.tokens.lead)]);
    await Promise.all([owner, other, lead].map(connected));
    const started = Date.now();
    await h.db.store.updateCustomer(actors.alice, testContext(), 'ORG-000501', await version('ORG-000501'), { contactPhone: '+1 555 0142' }, 'New number');
    const f = await owner.waitFor((x) => x.event === 'change');
    const delay = Date.now() - started;
    const change = LiveChange.parse(JSON.parse(f.data!));
    expect(change).toMatchObject({
      action: 'customer.update',
      type: 'customer',
      entity: 'ORG-000501',
      version: await version('ORG-000501'),
      actorSub: 'alice',
      actorName: 'Alice Adams',
      fields: ['contactPhone'],
    });
    expect(f.id).toBe(change.id);
    expect(f.data).not.toContain('555');
    expect(delay).toBeLessThan(1_000);
    await lead.waitFor((x) => x.event === 'change' && x.id === change.id);
    // Carol's own customer changes next: her stream hears that, and never heard Alice's.
    await h.db.store.updateCustomer(actors.carol, testContext(), 'ORG-000503', await version('ORG-000503'), { contactEmail: 'ops@carol.example' }, 'New address');
    await other.waitFor((x) => x.event === 'change');
    expect(changes(other).map((c) => c.entity)).toEqual(['ORG-000503']);
    await new Promise((r) => setTimeout(r, 100));
    expect(changes(owner).map((c) => c.entity)).toEqual(['ORG-000501']);
    for (const s of [owner, other, lead]) s.close();
  });

  it('resumes after Last-Event-ID with what was committed while away, and only what the caller may read', async () => {
    const first = await open(h.tokens.owner);
    await connected(first);
    await h.db.store.updateCustomer(actors.alice, testContext(), 'ORG-000502', await version('ORG-000502'), { contactName: 'Sam Ortiz' }, 'New contact');
    const seen = await first.waitFor((x) => x.event === 'change');
    first.close();
    // While away: one change of Alice's customer, one of Carol's.
    await h.db.store.updateCustomer(actors.alice, testContext(), 'ORG-000502', await version('ORG-000502'), { contactName: 'Kim Park' }, 'Another contact');
    await h.db.store.updateCustomer(actors.carol, testContext(), 'ORG-000503', await version('ORG-000503'), { contactEmail: 'ops2@carol.example' }, 'New address');
    const again = await open(h.tokens.owner, { 'last-event-id': seen.id! });
    const now = await version('ORG-000502');
    // The replay may repeat changes from shortly before the one seen (the client ignores repeats); the missed one is there.
    await again.waitFor((x) => x.event === 'change' && LiveChange.parse(JSON.parse(x.data!)).version === now && x.data!.includes('ORG-000502'));
    await new Promise((r) => setTimeout(r, 100));
    expect(changes(again).every((c) => c.entity !== 'ORG-000503')).toBe(true);
    again.close();
  });

  it('says reset when it cannot resume (an unknown or malformed Last-Event-ID)', async () => {
    for (const last of ['987654321', 'not-an-id']) {
      const s = await open(h.tokens.owner, { 'last-event-id': last });
      await s.waitFor((x) => x.event === 'reset');
      s.close();
    }
  });

  it('sends heartbeats while nothing happens', async () => {
    const s = await open(h.tokens.lead);
    await s.waitFor((x) => x.comment === true && x.event === 'message' && s.frames.indexOf(x) > 0, 2_000);
    s.close();
  });

  it('ends with expired when the access token does', async () => {
    const exp = Math.floor(Date.now() / 1000) + 2;
    const token = await h.issuer.sign({ ...actors.alice, scope: 'openid', client_id: CONSOLE_CLIENT_ID, exp });
    const s = await open(token);
    await s.waitFor((x) => x.event === 'expired', 5_000);
    await s.ended;
    expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000 - 50);
  });

  it('refuses more open streams per user than allowed with 429', async () => {
    const held = await Promise.all([1, 2, 3].map(() => open(h.tokens.admin)));
    await Promise.all(held.map(connected));
    expectProblem(await h.call('admin', 'GET', '/v1/events'), 429);
    held[0]!.close();
    await new Promise((r) => setTimeout(r, 100));
    const after = await open(h.tokens.admin);
    expect(after.status).toBe(200);
    for (const s of [...held, after]) s.close();
  });

  it('a closing API ends its open streams rather than waiting for them', async () => {
    const s = await open(h.tokens.owner);
    await connected(s);
    const closing = h.app.close();
    await Promise.race([s.ended, new Promise((_r, reject) => setTimeout(() => reject(new Error('the stream was not ended')), 5_000))]);
    await Promise.race([closing, new Promise((_r, reject) => setTimeout(() => reject(new Error('the API did not close')), 10_000))]);
  });
});
