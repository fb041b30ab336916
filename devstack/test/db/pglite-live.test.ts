// The change stream on the embedded default: PGlite's one connection LISTENs
// too, so a save through the store is announced after its commit (the store's
// announcer, as on PostgreSQL) and heard with its id, customer and version,
// and what api.live_events says of it is the same as on PostgreSQL.
import type { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PgStore } from '../../../api/src/db/pg-store';
import { LiveRows } from '../../../api/src/live/hub';
import type { ChangeNotice, ChangeSource } from '../../../api/src/live/listener';
import { actors, customerFields, testContext } from '../../../testing/db';
import { createPglite, pgliteChangeSource, pgliteStore } from '../../src/pglite';

let db: PGlite;
let store: PgStore;
let source: ChangeSource;
const heard: ChangeNotice[] = [];
beforeAll(async () => {
  db = await createPglite();
  store = await pgliteStore(db, { sealIntervalMs: 0 });
  source = pgliteChangeSource(db);
  await source.start({ notice: (n) => void heard.push(n), gap: () => undefined, error: (err) => { throw err; } });
});
afterAll(async () => {
  await source?.close();
  await store?.close();
});

it('announces a create and an edit, and api.live_events describes them', async () => {
  const created = await store.createCustomer(actors.alice, testContext(), { customer: { ...customerFields(), orgId: 'ORG-000321' }, reason: 'New customer' });
  // Announced after its commit, with the customer's version when announced: heard before the edit, 1.
  await expect.poll(() => heard.length).toBe(1);
  await store.updateCustomer(actors.alice, testContext(), 'ORG-000321', created.customer.version, { contactPhone: '+1 555 0177' }, 'New number');
  await expect.poll(() => heard.length).toBe(2);
  expect(heard.map((n) => [n.type, n.entity, n.version])).toEqual([
    ['customer', 'ORG-000321', 1],
    ['customer', 'ORG-000321', 2],
  ]);
  const rows = LiveRows.parse(await store.audit.call('live_events', 'SELECT api.live_events($1::bigint[]) AS r', [heard.map((n) => n.id)]));
  expect(rows.at(-1)).toMatchObject({ action: 'customer.update', actorName: 'Alice Adams', fields: ['contactPhone'], owners: ['alice'], version: 2 });
});
