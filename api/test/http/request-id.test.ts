// Request ids in the audit trail: every audit and access event records the
// server's own id (a UUID), whatever the caller sends; a well-formed
// x-request-id is kept beside it as the client's, a hostile or overlong one is
// not recorded anywhere.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessEventsFor, auditEventsFor, seedCustomer } from '../../../testing/db';
import { expectProblem, startHarness, type Harness } from './harness';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ORG = 'ORG-000070';
let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  await seedCustomer(h.db.admin, { orgId: ORG, ownerSub: 'alice', ownerName: 'Alice Adams' });
});
afterAll(() => h?.close());

const hostile = ['x'.repeat(65), 'a'.repeat(10_000), 'abc', '<script>alert(1)</script>', "id-1234' OR 1=1 --", 'id\u00e9-12345678'];

describe('a client-chosen x-request-id', () => {
  it.each(hostile.map((id) => [id.length > 40 ? `${id.slice(0, 20)}… (${id.length})` : id, id]))(
    'that is not a plain token of 8 to 64 characters (%s) is recorded nowhere',
    async (_label, id) => {
      const before = (await auditEventsFor(h.db.admin, ORG)).length;
      const version = before + 1;
      const res = await h.call('owner', 'PATCH', `/v1/customers/${ORG}`, {
        body: { changes: { userCount: 200 + before }, reason: 'Hostile request id' },
        headers: { 'if-match': `"${version}"`, 'x-request-id': id },
      });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.headers['x-request-id']).toMatch(UUID);
      expect(res.headers['x-client-request-id']).toBeUndefined();
      const events = await auditEventsFor(h.db.admin, ORG);
      expect(events).toHaveLength(before + 1);
      expect(events.at(-1)).toMatchObject({ request_id: res.headers['x-request-id'], client_request_id: null });
    },
  );

  it('that is well formed is recorded as the client’s, beside the server’s own id', async () => {
    const before = (await auditEventsFor(h.db.admin, ORG)).length;
    const res = await h.call('owner', 'PATCH', `/v1/customers/${ORG}`, {
      body: { changes: { userCount: 999 }, reason: 'Correlated request' },
      headers: { 'if-match': `"${before + 1}"`, 'x-request-id': 'console-0042:abc.def' },
    });
    expect(res.statusCode, res.body).toBe(200);
    const serverId = String(res.headers['x-request-id']);
    expect(serverId).toMatch(UUID);
    expect(res.headers['x-client-request-id']).toBe('console-0042:abc.def');
    expect((await auditEventsFor(h.db.admin, ORG)).at(-1)).toMatchObject({
      request_id: serverId,
      client_request_id: 'console-0042:abc.def',
    });

    const read = await h.call('owner', 'GET', `/v1/customers/${ORG}`, { headers: { 'x-request-id': 'console-0043-read' } });
    expect(read.statusCode).toBe(200);
    expect((await accessEventsFor(h.db.admin, ORG)).at(-1)).toMatchObject({
      request_id: read.headers['x-request-id'],
      client_request_id: 'console-0043-read',
    });
  });

  it('is kept beside the server’s id on the access events of the trail’s own reads too', async () => {
    const reads: [string, string][] = [
      [`/v1/customers/${ORG}/audit`, 'console-0050-history'],
      [`/v1/audit/events?orgId=${ORG}`, 'console-0051-review'],
      [`/v1/audit/events.csv?orgId=${ORG}`, 'console-0052-export'],
      ['/v1/audit/evidence', 'console-0053-evidence'],
    ];
    for (const [url, id] of reads) {
      const res = await h.call('lead', 'GET', url, { headers: { 'x-request-id': id } });
      expect(res.statusCode, url).toBe(200);
      const rows = await h.db.admin.query<{ request_id: string; client_request_id: string | null }>(
        'SELECT request_id, client_request_id FROM audit.access_events WHERE client_request_id = $1',
        [id],
      );
      expect(rows.rows, url).toEqual([{ request_id: res.headers['x-request-id'], client_request_id: id }]);
    }
  });

  it('never replaces the server’s id in a problem', async () => {
    const res = await h.call('owner', 'GET', '/v1/customers/ORG-999999', { headers: { 'x-request-id': 'console-0044-missing' } });
    const problem = expectProblem(res, 404);
    expect(problem.requestId).toMatch(UUID);
    expect(problem.requestId).toBe(res.headers['x-request-id']);
  });
});
