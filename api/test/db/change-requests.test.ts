// Four eyes in the database (as cims_api through the store, and as the owner
// against the table): an edit touching a rule's field becomes one change
// request, the checker is never the maker whatever roles either holds, only a
// support lead checks, a stale request applies nothing, requests expire, every
// step is one audit event and a refused step writes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChangeRequest, ChangeRequestQuery } from '../../../shared/api';
import { StoreError, type Actor, type EditOutcome } from '../../src/db/store';
import { actors, applied, auditEventCount, auditEventsFor, customerRow, createTestDatabase, seedCustomer, testContext, type TestDatabase } from '../../../testing/db';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase({ approvalRules: 'seeded' });
});
afterAll(() => t?.drop());

const storeError = (kind: StoreError['kind']) => expect.objectContaining({ name: 'StoreError', kind });
/** Someone holding both roles, and an admin who is also a support lead: neither may check their own request. */
const dana: Actor = { sub: 'dana', name: 'Dana Dual', roles: ['crm', 'support_lead'], scopes: ['openid'] };
const adam: Actor = { sub: 'adam', name: 'Adam Admin', roles: ['admin', 'support_lead'], scopes: ['openid'] };
const lena: Actor = { sub: 'lena', name: 'Lena Lead', roles: ['support_lead'], scopes: ['openid'] };

function requestOf(outcome: EditOutcome): ChangeRequest {
  if (!('changeRequest' in outcome)) throw new Error('the edit was applied, not sent for approval');
  return outcome.changeRequest;
}

/** What a refused step must leave as it was: the request, the customer, the trail. */
async function snapshot(id: string, orgId: string) {
  const r = await t.admin.query('SELECT status, version, checker_sub FROM core.change_requests WHERE id = $1', [id]);
  const c = await customerRow(t.admin, orgId);
  return { request: r.rows[0], version: c?.version, updatedAt: String(c?.updated_at), events: await auditEventCount(t.admin) };
}

const list = (actor: Actor, q: ChangeRequestQuery = {}) => t.store.changeRequests(actor, testContext(), ChangeRequestQuery.parse(q));

describe('rules', () => {
  it('publishes the seeded rules: contract value, currency, number of users, archive and un-archive, the expiry', async () => {
    expect(await t.store.approvalRules(actors.alice)).toEqual({
      fields: ['userCount', 'contractValueCents', 'currency'],
      actions: ['archive', 'unarchive'],
      requestExpiryDays: 14,
    });
    await expect(t.store.approvalRules(actors.modelRunner)).rejects.toEqual(storeError('forbidden'));
  });
});

describe('an edit touching a rule field', () => {
  beforeAll(async () => {
    await seedCustomer(t.admin, { orgId: 'ORG-000501', ownerSub: 'alice', ownerName: 'Alice Adams' });
    await seedCustomer(t.admin, { orgId: 'ORG-000502', ownerSub: 'dana', ownerName: 'Dana Dual' });
    await seedCustomer(t.admin, { orgId: 'ORG-000503', ownerSub: 'alice', ownerName: 'Alice Adams' });
    await seedCustomer(t.admin, { orgId: 'ORG-000504', ownerSub: 'carol', ownerName: 'Carol Chen' });
  });

  it('becomes ONE request holding every change of the edit; the customer stays as it was; one event', async () => {
    const before = await customerRow(t.admin, 'ORG-000501');
    const r = requestOf(
      await t.store.updateCustomer(actors.alice, testContext(), 'ORG-000501', 1, { contractValueCents: 9_900_000, contactPhone: '+1 555 0199' }, 'Renewal signed at a higher tier'),
    );
    expect(r).toMatchObject({
      orgId: 'ORG-000501', kind: 'edit', baseVersion: 1, status: 'pending', maker: { sub: 'alice', name: 'Alice Adams' }, checker: null, version: 1,
      reason: 'Renewal signed at a higher tier',
    });
    expect(r.changes).toEqual([
      { field: 'contactPhone', before: String(before?.contact_phone), after: '+1 555 0199' },
      { field: 'contractValueCents', before: Number(before?.contract_value_cents), after: 9_900_000 },
    ]);
    expect(await customerRow(t.admin, 'ORG-000501')).toEqual(before);
    const events = await auditEventsFor(t.admin, 'ORG-000501');
    expect(events.map((e) => e.action)).toEqual(['change.requested']);
    expect(events[0]).toMatchObject({ actor_sub: 'alice', changes: r.changes, detail: { changeRequestId: r.id, kind: 'edit', baseVersion: 1 } });
  });

  it('an edit of other fields only applies at once; a second request while one waits is refused and writes nothing', async () => {
    expect(applied(await t.store.updateCustomer(actors.alice, testContext(), 'ORG-000503', 1, { contactName: 'Plain Edit' }, 'Contact changed')).customer.version).toBe(2);
    requestOf(await t.store.updateCustomer(actors.alice, testContext(), 'ORG-000503', 2, { userCount: 400 }, 'More seats'));
    const events = await auditEventCount(t.admin);
    await expect(t.store.updateCustomer(actors.alice, testContext(), 'ORG-000503', 2, { userCount: 401 }, 'And a few more')).rejects.toEqual(storeError('duplicate'));
    expect(await auditEventCount(t.admin)).toBe(events);
  });

  it('the maker cannot check it, whatever roles they hold; a CRM and an admin cannot check at all; refusals write nothing', async () => {
    const r = requestOf(await t.store.updateCustomer(dana, testContext(), 'ORG-000502', 1, { userCount: 77 }, 'Seats changed'));
    // An admin who is also a support lead archives someone's customer: a request of their own.
    const adamsOwn = requestOf(await t.store.archiveCustomer(adam, testContext(), 'ORG-000504', 1, 'Merged elsewhere'));
    const was = await snapshot(r.id, 'ORG-000502');
    const wasAdams = await snapshot(adamsOwn.id, adamsOwn.orgId);
    await expect(t.store.approveChangeRequest(dana, testContext(), r.id, 1, 'Looks fine to me')).rejects.toEqual(storeError('forbidden'));
    await expect(t.store.rejectChangeRequest(dana, testContext(), r.id, 1, 'Never mind')).rejects.toEqual(storeError('forbidden'));
    await expect(t.store.approveChangeRequest(adam, testContext(), adamsOwn.id, 1, 'Approving my own')).rejects.toEqual(storeError('forbidden'));
    await expect(t.store.approveChangeRequest(actors.carol, testContext(), r.id, 1, 'A CRM approving')).rejects.toEqual(storeError('forbidden'));
    await expect(t.store.approveChangeRequest(actors.alice, testContext(), r.id, 1, 'A CRM approving')).rejects.toEqual(storeError('forbidden'));
    await expect(t.store.approveChangeRequest(actors.erin, testContext(), r.id, 1, 'An admin approving')).rejects.toEqual(storeError('forbidden'));
    await expect(t.store.approveChangeRequest(actors.modelRunner, testContext(), r.id, 1, 'A service')).rejects.toEqual(storeError('forbidden'));
    await expect(t.store.approveChangeRequest(actors.bob, testContext(), r.id, 7, 'Wrong version')).rejects.toEqual(storeError('conflict'));
    await expect(t.store.approveChangeRequest(actors.bob, testContext(), '999999', 1, 'No such request')).rejects.toEqual(storeError('not_found'));
    expect(await snapshot(r.id, 'ORG-000502')).toEqual(was);
    expect(await snapshot(adamsOwn.id, adamsOwn.orgId)).toEqual(wasAdams);

    // Another support lead may: the change applies in the approving transaction, one event naming both people.
    const done = await t.store.approveChangeRequest(actors.bob, testContext({ requestId: 'req-approve-1' }), r.id, 1, 'Order form checked');
    expect(done).toMatchObject({ status: 'approved', checker: { sub: 'bob', name: 'Bob Brown' }, checkerReason: 'Order form checked', version: 2 });
    expect(await customerRow(t.admin, 'ORG-000502')).toMatchObject({ user_count: 77, version: 2 });
    const last = (await auditEventsFor(t.admin, 'ORG-000502')).at(-1);
    expect(last).toMatchObject({
      action: 'customer.update', actor_sub: 'bob', request_id: 'req-approve-1', reason: 'Seats changed',
      changes: [{ field: 'userCount', before: 120, after: 77 }],
      detail: { changeRequestId: r.id, maker: { sub: 'dana', name: 'Dana Dual' }, checker: { sub: 'bob', name: 'Bob Brown' }, checkerReason: 'Order form checked' },
    });
    // Decided: nothing more happens to it.
    await expect(t.store.approveChangeRequest(lena, testContext(), r.id, 2, 'Again')).rejects.toEqual(storeError('duplicate'));
  });

  it('the table itself refuses a checker who is the maker, and a second pending request, whoever writes', async () => {
    const { rows } = await t.admin.query<{ id: string; maker_sub: string }>(`SELECT id::text, maker_sub FROM core.change_requests WHERE status = 'pending' LIMIT 1`);
    const pending = rows[0]!;
    await expect(
      t.admin.query(`UPDATE core.change_requests SET status = 'approved', checker_sub = maker_sub, checker_name = 'x', checker_reason = 'self', decided_at = now() WHERE id = $1`, [pending.id]),
    ).rejects.toMatchObject({ code: '23514', constraint: 'change_requests_checker_not_maker' });
    await expect(
      t.admin.query(
        `INSERT INTO core.change_requests (org_id, kind, base_version, changes, reason, maker_sub, maker_name, maker_roles, expires_at)
         SELECT org_id, kind, base_version, changes, reason, 'someone', 'Someone', '{crm}', expires_at FROM core.change_requests WHERE id = $1`,
        [pending.id],
      ),
    ).rejects.toMatchObject({ code: '23505' });
  });
});

describe('stale, rejected, withdrawn, expired', () => {
  beforeAll(async () => {
    for (const n of [601, 602, 603, 604]) await seedCustomer(t.admin, { orgId: `ORG-000${n}`, ownerSub: 'alice', ownerName: 'Alice Adams' });
  });

  it('approving after the customer moved on applies nothing and marks the request stale (one event)', async () => {
    const r = requestOf(await t.store.updateCustomer(actors.alice, testContext(), 'ORG-000601', 1, { contractValueCents: 1_000, contactPhone: '+1 555 0101' }, 'Price cut'));
    applied(await t.store.updateCustomer(actors.alice, testContext(), 'ORG-000601', 1, { contactEmail: 'moved@on.example' }, 'New contact email'));
    const before = await customerRow(t.admin, 'ORG-000601');
    const events = await auditEventCount(t.admin);
    const stale = await t.store.approveChangeRequest(actors.bob, testContext(), r.id, 1, 'Approved');
    expect(stale).toMatchObject({ status: 'stale', checker: null, version: 2 });
    expect(await customerRow(t.admin, 'ORG-000601')).toEqual(before);
    expect(await auditEventCount(t.admin)).toBe(events + 1);
    expect((await auditEventsFor(t.admin, 'ORG-000601')).at(-1)).toMatchObject({ action: 'change.stale', actor_sub: 'bob', detail: { changeRequestId: r.id, currentVersion: 2 } });
    // The maker re-submits on top of the current record: a new request, at the current version.
    const again = requestOf(await t.store.updateCustomer(actors.alice, testContext(), 'ORG-000601', 2, { contractValueCents: 1_000, contactPhone: '+1 555 0101' }, 'Price cut'));
    expect(again).toMatchObject({ baseVersion: 2, status: 'pending' });
  });

  it('a support lead rejects with a reason, the maker withdraws; one event each; others may not withdraw', async () => {
    const r = requestOf(await t.store.updateCustomer(actors.alice, testContext(), 'ORG-000602', 1, { currency: 'JPY' }, 'Billing in yen'));
    expect(await t.store.rejectChangeRequest(actors.bob, testContext(), r.id, 1, 'No contract for it')).toMatchObject({ status: 'rejected', checkerReason: 'No contract for it' });
    const w = requestOf(await t.store.updateCustomer(actors.alice, testContext(), 'ORG-000602', 1, { currency: 'CHF' }, 'Billing in francs'));
    const events = await auditEventCount(t.admin);
    await expect(t.store.withdrawChangeRequest(actors.bob, testContext(), w.id, 'Not mine')).rejects.toEqual(storeError('forbidden'));
    await expect(t.store.withdrawChangeRequest(actors.carol, testContext(), w.id, 'Not mine')).rejects.toEqual(storeError('forbidden'));
    expect(await auditEventCount(t.admin)).toBe(events);
    expect(await t.store.withdrawChangeRequest(actors.alice, testContext(), w.id, 'Typed the wrong one')).toMatchObject({ status: 'withdrawn' });
    expect((await auditEventsFor(t.admin, 'ORG-000602')).map((e) => e.action)).toEqual(['change.requested', 'change.rejected', 'change.requested', 'change.withdrawn']);
    expect(await customerRow(t.admin, 'ORG-000602')).toMatchObject({ currency: 'EUR', version: 1 });
  });

  it('a request past its expiry expires when next looked at (one event) and can no longer be approved', async () => {
    const r = requestOf(await t.store.updateCustomer(actors.alice, testContext(), 'ORG-000603', 1, { userCount: 1 }, 'Shrinking'));
    await t.admin.query(`UPDATE core.change_requests SET created_at = now() - interval '20 days', expires_at = now() - interval '6 days' WHERE id = $1`, [r.id]);
    const events = await auditEventCount(t.admin);
    const page = await list(actors.bob, { orgId: 'ORG-000603' });
    expect(page.items.map((i) => [i.id, i.status])).toEqual([[r.id, 'expired']]);
    expect(await auditEventCount(t.admin)).toBe(events + 1);
    expect((await auditEventsFor(t.admin, 'ORG-000603')).at(-1)).toMatchObject({ action: 'change.expired', detail: { changeRequestId: r.id } });
    await expect(t.store.approveChangeRequest(actors.bob, testContext(), r.id, 2, 'Too late')).rejects.toEqual(storeError('duplicate'));
    expect(await customerRow(t.admin, 'ORG-000603')).toMatchObject({ user_count: 120, version: 1 });
  });

  it('archive and un-archive by the owning CRM go through requests; a support lead approves each', async () => {
    const a = requestOf(await t.store.archiveCustomer(actors.alice, testContext(), 'ORG-000604', 1, 'Customer closed their account'));
    expect(a).toMatchObject({ kind: 'archive', changes: [{ field: 'status', before: 'active', after: 'archived' }] });
    expect(await customerRow(t.admin, 'ORG-000604')).toMatchObject({ status: 'active' });
    await t.store.approveChangeRequest(actors.bob, testContext(), a.id, 1, 'Confirmed with finance');
    expect(await customerRow(t.admin, 'ORG-000604')).toMatchObject({ status: 'archived', version: 2 });
    const u = requestOf(await t.store.unarchiveCustomer(actors.alice, testContext(), 'ORG-000604', 2, 'They came back'));
    await t.store.approveChangeRequest(lena, testContext(), u.id, 1, 'New contract seen');
    expect(await customerRow(t.admin, 'ORG-000604')).toMatchObject({ status: 'active', version: 3 });
    expect((await auditEventsFor(t.admin, 'ORG-000604')).map((e) => `${e.action} ${e.actor_sub}`)).toEqual([
      'change.requested alice', 'customer.archive bob', 'change.requested alice', 'customer.unarchive lena',
    ]);
  });
});

describe('who sees which request', () => {
  it('support leads see all; a CRM their own and those on their customers; each page and read is logged', async () => {
    const bobs = await list(actors.bob);
    expect(bobs.items.length).toBeGreaterThan(3);
    expect(bobs.items.map((i) => Number(i.id))).toEqual([...bobs.items.map((i) => Number(i.id))].sort((x, y) => y - x)); // newest first
    const carols = await list(actors.carol);
    expect(carols.items.every((i) => i.maker.sub === 'carol' || i.orgId === 'ORG-000504')).toBe(true);
    const alices = bobs.items.find((i) => i.maker.sub === 'alice')!;
    await expect(t.store.changeRequest(actors.carol, testContext(), alices.id)).rejects.toEqual(storeError('forbidden'));
    await expect(t.store.changeRequest(actors.erin, testContext(), alices.id)).rejects.toEqual(storeError('forbidden'));
    expect(await t.store.changeRequest(actors.alice, testContext({ requestId: 'req-cr-read' }), alices.id)).toMatchObject({ id: alices.id });
    const { rows } = await t.admin.query(`SELECT kind, entity_id FROM audit.access_events WHERE request_id = 'req-cr-read'`);
    expect(rows).toEqual([{ kind: 'change.read', entity_id: alices.orgId }]);
    const pending = await list(actors.bob, { status: 'pending', limit: 1 });
    expect(pending.items).toHaveLength(1);
    expect(pending.nextCursor).not.toBeNull();
    const next = await list(actors.bob, { status: 'pending', limit: 1, cursor: pending.nextCursor! });
    expect(Number(next.items[0]?.id)).toBeLessThan(Number(pending.items[0]?.id));
  });
});

describe('a revert that needs approval', () => {
  beforeAll(async () => {
    await seedCustomer(t.admin, { orgId: 'ORG-000801', ownerSub: 'alice', ownerName: 'Alice Adams' });
  });

  it('keeps revertOf on the request, whose approved change event records it; a wrong revertOf writes nothing', async () => {
    const first = requestOf(await t.store.updateCustomer(actors.alice, testContext(), 'ORG-000801', 1, { userCount: 900 }, 'More seats'));
    const approvedChange = await t.store.approveChangeRequest(actors.bob, testContext(), first.id, first.version, 'Seats confirmed');
    expect(approvedChange).toMatchObject({ status: 'approved' });
    expect(approvedChange).not.toHaveProperty('revertOf');
    const changed = String((await auditEventsFor(t.admin, 'ORG-000801')).at(-1)?.id);

    // A revert naming an event that is not an edit of this customer is refused before any request is made.
    const events = await auditEventCount(t.admin);
    await expect(
      t.store.updateCustomer(actors.alice, testContext(), 'ORG-000801', 2, { userCount: Number(first.changes[0]?.before) }, 'Revert of change', '999999999'),
    ).rejects.toEqual(storeError('validation'));
    expect(await auditEventCount(t.admin)).toBe(events);

    const revert = requestOf(
      await t.store.updateCustomer(actors.alice, testContext(), 'ORG-000801', 2, { userCount: Number(first.changes[0]?.before) }, `Revert of change #${changed}`, changed),
    );
    expect(revert).toMatchObject({ status: 'pending', revertOf: changed });
    expect((await list(actors.bob, { orgId: 'ORG-000801', status: 'pending' })).items[0]).toMatchObject({ id: revert.id, revertOf: changed });
    const row = await t.admin.query('SELECT revert_of FROM core.change_requests WHERE id = $1', [revert.id]);
    expect(String(row.rows[0]?.revert_of)).toBe(changed);

    expect(await t.store.approveChangeRequest(actors.bob, testContext(), revert.id, revert.version, 'Back to the contract')).toMatchObject({
      status: 'approved', revertOf: changed,
    });
    expect((await auditEventsFor(t.admin, 'ORG-000801')).at(-1)).toMatchObject({
      action: 'customer.update', actor_sub: 'bob', revert_of: changed, reason: `Revert of change #${changed}`,
      detail: { changeRequestId: revert.id, maker: { sub: 'alice' }, checker: { sub: 'bob' } },
    });
    await t.store.sealAudit();
    expect((await t.store.customerAudit(actors.alice, testContext(), 'ORG-000801', undefined, 10)).items[0]).toMatchObject({ revertOf: changed });
    await expect(t.trail.verify(actors.bob)).resolves.toMatchObject({ ok: true });
  });

  it('the table refuses revertOf on an archive request, whoever writes', async () => {
    await expect(
      t.admin.query(
        `INSERT INTO core.change_requests (org_id, kind, base_version, changes, reason, maker_sub, maker_name, maker_roles, expires_at, revert_of)
         VALUES ('ORG-000801', 'archive', 3, '[{"field":"status","before":"active","after":"archived"}]', 'Gone away', 'alice', 'Alice', '{crm}', now() + interval '1 day', 1)`,
      ),
    ).rejects.toThrow(/change_requests_revert_is_edit/);
  });
});
