// "Revert this change": an ordinary audited edit (version check, owner check,
// reason) whose event records the event it reverts. The database accepts only
// an edit of the same customer as the one reverted, and the history shows it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/db/store';
import { actors, auditEventCount, auditEventsFor, createTestDatabase, customerRow, seedCustomer, testContext, type TestDatabase } from '../../../testing/db';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
  await seedCustomer(t.admin, { orgId: 'ORG-000701', ownerSub: 'alice', ownerName: 'Alice Adams', contactEmail: 'old@acme.test' });
  await seedCustomer(t.admin, { orgId: 'ORG-000702', ownerSub: 'alice', ownerName: 'Alice Adams' });
});
afterAll(() => t?.drop());

const storeError = (kind: StoreError['kind']) => expect.objectContaining({ name: 'StoreError', kind });

async function lastEventId(orgId: string): Promise<string> {
  return String((await auditEventsFor(t.admin, orgId)).at(-1)?.id);
}

describe('revert of one change', () => {
  it('restores the before-value as a new edit whose event names the reverted one; history shows revertOf', async () => {
    await t.store.updateCustomer(actors.alice, testContext(), 'ORG-000701', 1, { contactEmail: 'typo@acme.test' }, 'New contact');
    const changed = await lastEventId('ORG-000701');
    const d = await t.store.updateCustomer(actors.alice, testContext(), 'ORG-000701', 2, { contactEmail: 'old@acme.test' }, `Revert of change #${changed}`, changed);
    expect(d).toMatchObject({ customer: { contactEmail: 'old@acme.test', version: 3 } });
    const events = await auditEventsFor(t.admin, 'ORG-000701');
    expect(events.at(-1)).toMatchObject({
      action: 'customer.update',
      revert_of: changed,
      reason: `Revert of change #${changed}`,
      changes: [{ field: 'contactEmail', before: 'typo@acme.test', after: 'old@acme.test' }],
    });
    // An ordinary edit records no revertOf.
    expect(events.at(-2)).toMatchObject({ revert_of: null });
    await t.store.sealAudit();
    const history = await t.store.customerAudit(actors.alice, testContext(), 'ORG-000701', undefined, 10);
    expect(history.items[0]).toMatchObject({ revertOf: changed, hash: expect.any(String) });
    expect(history.items[1]).not.toHaveProperty('revertOf');
    // The sealed chain, revert_of included, verifies.
    await expect(t.trail.verify(actors.bob)).resolves.toMatchObject({ ok: true });
  });

  it('refuses to name an event of another customer, a creation, or one that does not exist, writing nothing', async () => {
    await t.store.updateCustomer(actors.alice, testContext(), 'ORG-000702', 1, { contactName: 'Growth Lead' }, 'New lead');
    const other = await lastEventId('ORG-000702');
    const before = await auditEventCount(t.admin);
    const row = await customerRow(t.admin, 'ORG-000701');
    for (const revertOf of [other, '999999999']) {
      await expect(
        t.store.updateCustomer(actors.alice, testContext(), 'ORG-000701', 3, { contactEmail: 'x@acme.test' }, 'Revert of something', revertOf),
      ).rejects.toEqual(storeError('validation'));
    }
    const created = await t.store.createCustomer(actors.alice, testContext(), {
      customer: { orgId: 'ORG-000703', orgName: 'New Co', contactName: 'N', contactEmail: 'n@new.test', contactPhone: '+1 555 0100', userCount: 1, contractValueCents: 1, currency: 'EUR', renewalDate: '2027-01-01' },
      reason: 'Signed',
    });
    const creation = await lastEventId(created.customer.orgId);
    await expect(
      t.store.updateCustomer(actors.alice, testContext(), 'ORG-000703', 1, { contactName: 'Nora' }, 'Revert the creation', creation),
    ).rejects.toEqual(storeError('validation'));
    expect(await auditEventCount(t.admin)).toBe(before + 1); // the creation only
    expect(await customerRow(t.admin, 'ORG-000701')).toEqual(row);
  });

  it('is an edit like any other: another CRM is refused, a stale version conflicts', async () => {
    const id = (await auditEventsFor(t.admin, 'ORG-000701'))[0]?.id as string;
    await expect(
      t.store.updateCustomer(actors.carol, testContext(), 'ORG-000701', 3, { contactEmail: 'typo@acme.test' }, 'Revert of change', id),
    ).rejects.toEqual(storeError('forbidden'));
    await expect(
      t.store.updateCustomer(actors.alice, testContext(), 'ORG-000701', 2, { contactEmail: 'typo@acme.test' }, 'Revert of change', id),
    ).rejects.toEqual(storeError('conflict'));
  });
});
