// The embedded default: the same migrations on PGlite (PostgreSQL in
// WebAssembly), and the store's queries under SET ROLE cims_api, refused on
// tables exactly as on the real server.
import type { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CustomerDetail, CustomerListQuery } from '../../../shared/api';
import { migrate } from '../../../api/src/db/migrate';
import type { PgStore } from '../../../api/src/db/pg-store';
import { createPglite, pgliteStore } from '../../src/pglite';
import { AuditTrail } from '../../../api/src/audit/trail';
import { createTestAudit } from '../../../testing/audit';
import { actors, customerFields, testContext } from '../../../testing/db';

let db: PGlite;
let store: PgStore;
let trail: AuditTrail;
const audit = createTestAudit();
beforeAll(async () => {
  db = await createPglite();
  store = await pgliteStore(db, { sealIntervalMs: 0 });
  trail = new AuditTrail(store.audit, audit.config);
});
afterAll(async () => {
  await trail?.stop();
  await store?.close();
  audit.cleanup();
});

describe('PGlite', () => {
  it('runs the migrations, and a CRM creates, edits and reads a customer as cims_api, audited and verifiable', async () => {
    expect((await db.query<{ u: string }>('SELECT current_user AS u')).rows[0]?.u).toBe('cims_api');
    const created = await store.createCustomer(actors.alice, testContext(), {
      customer: { orgId: 'ORG-001001', ...customerFields({ orgName: 'Embedded Works' }) },
      reason: 'Demo customer',
    });
    // A contact field: no approval rule names it, so the edit applies at once.
    await store.updateCustomer(actors.alice, testContext(), 'ORG-001001', created.customer.version, { contactName: 'Kim Embed' }, 'New contact');
    await expect(store.updateCustomer(actors.carol, testContext(), 'ORG-001001', 2, { contactName: 'Not Mine' }, 'Not mine')).rejects.toMatchObject({ kind: 'forbidden' });
    const read = await store.getCustomer(actors.bob, testContext(), 'ORG-001001');
    expect(CustomerDetail.parse(read).customer).toMatchObject({ orgName: 'Embedded Works', contactName: 'Kim Embed', version: 2 });
    const found = await store.searchCustomers(actors.alice, testContext(), CustomerListQuery.parse({ q: 'embedded' }));
    expect(found.items.map((c) => c.orgId)).toEqual(['ORG-001001']);
    expect(await trail.verify(actors.bob)).toMatchObject({ ok: true, checked: 2, unsealed: 0, accessChecked: 2, accessUnsealed: 0, checkpoint: { seq: 1 } });
  });

  it('refuses the API role any direct table access', async () => {
    await expect(db.query('SELECT * FROM core.customers')).rejects.toMatchObject({ code: '42501' });
    await expect(db.query('SELECT * FROM audit.events')).rejects.toMatchObject({ code: '42501' });
    await expect(db.query("INSERT INTO core.customers (org_id) VALUES ('ORG-000001')")).rejects.toMatchObject({ code: '42501' });
  });

  it('migrates again on the next open: no migration, the data kept, functions and audit triggers re-created', async () => {
    await db.exec('RESET ROLE');
    try {
      const before = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit.events');
      await expect(migrate(db)).resolves.toEqual([]);
      expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit.events')).rows).toEqual(before.rows);
      await expect(db.query('DELETE FROM audit.events')).rejects.toMatchObject({ code: 'CA405' });
    } finally {
      await db.exec('SET ROLE cims_api');
    }
    const read = await store.getCustomer(actors.bob, testContext(), 'ORG-001001');
    expect(read.customer).toMatchObject({ orgName: 'Embedded Works', version: 2 });
    expect(await trail.verify(actors.bob)).toMatchObject({ ok: true, checked: 2, unsealed: 0, accessChecked: 3, checkpoint: { seq: 2 } });
  });
});
