// Self-service in the database (as cims_api, through the store): a customer's
// contact reads and changes only their own organization's contact and card, each
// change audited as theirs with via = 'portal'; the database refuses what the
// API would (other roles, other fields, stale versions, expired cards) and card
// numbers in customer and billing data whoever writes them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/db/store';
import {
  accessEventsFor,
  actors,
  auditEventsFor,
  createTestDatabase,
  customerRow,
  seedBilling,
  seedCustomer,
  testContext,
  type TestDatabase,
} from '../../../testing/db';

let t: TestDatabase;
const ORG = 'ORG-000101';
const OTHER = 'ORG-000102';
const ARCHIVED = 'ORG-000103';
const contact = (org: string, extra: Partial<Actor> = {}): Actor => ({
  sub: `contact-${org.slice(-6)}`,
  name: 'Pat Doe',
  roles: ['customer'],
  scopes: [],
  org,
  ...extra,
});
const card = { processorToken: 'tok_db_test_0001', brand: 'mastercard', last4: '4444', expMonth: 3, expYear: 2031 } as const;
const storeError = (kind: string) => expect.objectContaining({ name: 'StoreError', kind });

beforeAll(async () => {
  t = await createTestDatabase();
  await seedCustomer(t.admin, { orgId: ORG, ownerSub: 'alice', ownerName: 'Alice Adams', orgName: 'Acme Portal' });
  await seedCustomer(t.admin, { orgId: OTHER, ownerSub: 'alice', ownerName: 'Alice Adams', orgName: 'Other Co' });
  await seedCustomer(t.admin, { orgId: ARCHIVED, ownerSub: 'alice', ownerName: 'Alice Adams', status: 'archived' });
  await seedBilling(t.admin, ORG, { brand: 'visa', last4: '4242', email: 'billing-only@example.com' });
});
afterAll(() => t?.drop());

describe('reading one\'s own organization', () => {
  it('shows the contact fields and masked billing, nothing else, and records the read', async () => {
    const before = (await accessEventsFor(t.admin, ORG)).length;
    const org = await t.store.selfOrganization(contact(ORG), testContext());
    expect(Object.keys(org).sort()).toEqual(['billing', 'contactEmail', 'contactName', 'contactPhone', 'orgId', 'version']);
    expect(org.billing).toEqual([{ brand: 'visa', last4: '4242', expMonth: 12, expYear: 2030 }]);
    expect(JSON.stringify(org)).not.toContain('billing-only@example.com');
    const events = await accessEventsFor(t.admin, ORG);
    expect(events).toHaveLength(before + 1);
    expect(events.at(-1)).toMatchObject({ actor_sub: 'contact-000101', actor_roles: ['customer'], kind: 'customer.read', detail: { via: 'portal' } });
  });

  it.each([
    ['a CRM', { ...actors.alice, org: ORG }, 'forbidden'],
    ['a customer who also claims a staff role', contact(ORG, { roles: ['customer', 'crm'] }), 'forbidden'],
    ['a customer with a scope', contact(ORG, { scopes: ['predictions:write'] }), 'forbidden'],
    ['a customer without an organization', contact(ORG, { org: undefined }), 'forbidden'],
    ['the contact of an archived customer', contact(ARCHIVED), 'not_found'],
    ['the contact of an unknown organization', contact('ORG-999999'), 'not_found'],
  ] as const)('is refused to %s', async (_who, actor, kind) => {
    await expect(t.store.selfOrganization(actor, testContext())).rejects.toEqual(storeError(kind));
  });
});

describe('changing one\'s own contact', () => {
  it('changes name, email and phone, audited as the contact, via the portal', async () => {
    const { version } = await t.store.selfOrganization(contact(ORG), testContext());
    const updated = await t.store.updateSelfOrganization(contact(ORG), testContext(), version, { contactPhone: '+44 20 7946 0999' });
    expect(updated).toMatchObject({ contactPhone: '+44 20 7946 0999', version: version + 1 });
    const events = await auditEventsFor(t.admin, ORG);
    expect(events.at(-1)).toMatchObject({
      actor_sub: 'contact-000101',
      actor_name: 'Pat Doe',
      actor_roles: ['customer'],
      action: 'customer.update',
      via: 'portal',
      changes: [{ field: 'contactPhone', before: expect.any(String), after: '+44 20 7946 0999' }],
    });
  });

  it('touches nothing but the contact: the other organization, the owner, the contract stay as they were', async () => {
    const otherBefore = await customerRow(t.admin, OTHER);
    const mineBefore = await customerRow(t.admin, ORG);
    const { version } = await t.store.selfOrganization(contact(ORG), testContext());
    await t.store.updateSelfOrganization(contact(ORG), testContext(), version, { contactName: 'Pat Doe-Smith', contactEmail: 'pat@acme.example' });
    expect(await customerRow(t.admin, OTHER)).toEqual(otherBefore);
    const mine = await customerRow(t.admin, ORG);
    for (const col of ['org_name', 'owner_sub', 'contract_value_cents', 'user_count', 'renewal_date', 'status'] as const) {
      expect(mine?.[col]).toEqual(mineBefore?.[col]);
    }
    expect(mine).toMatchObject({ contact_name: 'Pat Doe-Smith', contact_email: 'pat@acme.example' });
  });

  it('refuses a stale version, and fields the portal may not set, recording nothing', async () => {
    const { version } = await t.store.selfOrganization(contact(ORG), testContext());
    const before = (await auditEventsFor(t.admin, ORG)).length;
    await expect(t.store.updateSelfOrganization(contact(ORG), testContext(), version - 1, { contactPhone: '+1 555 0101' })).rejects.toEqual(
      storeError('conflict'),
    );
    const sneaky = { contractValueCents: 1 } as unknown as { contactPhone: string };
    await expect(t.store.updateSelfOrganization(contact(ORG), testContext(), version, sneaky)).rejects.toEqual(storeError('validation'));
    expect(await auditEventsFor(t.admin, ORG)).toHaveLength(before);
  });

  it('a change that changes nothing records no audit event', async () => {
    const org = await t.store.selfOrganization(contact(ORG), testContext());
    const before = (await auditEventsFor(t.admin, ORG)).length;
    const same = await t.store.updateSelfOrganization(contact(ORG), testContext(), org.version, { contactPhone: org.contactPhone });
    expect(same.version).toBe(org.version);
    expect(await auditEventsFor(t.admin, ORG)).toHaveLength(before);
  });
});

describe('replacing the card on file', () => {
  it('keeps only the new token, brand, last four and expiry; the history names both cards by brand and last four', async () => {
    const { version } = await t.store.selfOrganization(contact(ORG), testContext());
    const org = await t.store.replaceBillingMethod(contact(ORG), testContext(), card);
    expect(org.billing).toEqual([{ brand: 'mastercard', last4: '4444', expMonth: 3, expYear: 2031 }]);
    expect(org.version).toBe(version + 1);
    const { rows } = await t.admin.query('SELECT processor_token, brand, last4, billing_email FROM core.billing_methods WHERE org_id = $1', [ORG]);
    // The billing contact stays what it was: card data and contact data are kept apart.
    expect(rows).toEqual([{ processor_token: 'tok_db_test_0001', brand: 'mastercard', last4: '4444', billing_email: 'billing-only@example.com' }]);
    const events = await auditEventsFor(t.admin, ORG);
    expect(events.at(-1)).toMatchObject({
      actor_roles: ['customer'],
      via: 'portal',
      changes: [{ field: 'billingMethod', before: 'visa ending 4242, expires 12/2030', after: 'mastercard ending 4444, expires 03/2031' }],
    });
    expect(JSON.stringify(events.at(-1))).not.toContain('tok_db_test_0001');
  });

  it('refuses an expired card and another organization\'s token', async () => {
    await expect(t.store.replaceBillingMethod(contact(OTHER), testContext(), { ...card, expYear: 2020 })).rejects.toEqual(storeError('validation'));
    await expect(t.store.replaceBillingMethod(contact(OTHER), testContext(), card)).rejects.toEqual(storeError('duplicate'));
    const { rows } = await t.admin.query('SELECT count(*)::int AS n FROM core.billing_methods WHERE org_id = $1', [OTHER]);
    expect(rows[0].n).toBe(0);
  });
});

describe('card numbers in the database', () => {
  it.each([
    ['4111111111111111', true],
    ['4111 1111 1111 1111', true],
    ['call 5555-5555-5555-4444 now', true],
    ['378282246310005', true],
    ['4111111111111112', false],
    ['+44 20 7946 0000', false],
    ['12345678901234567890123', false],
    ['ORG-000123', false],
  ])('core.holds_pan(%j) is %s', async (text, expected) => {
    const { rows } = await t.admin.query<{ r: boolean }>('SELECT core.holds_pan($1) AS r', [text]);
    expect(rows[0]?.r).toBe(expected);
  });

  it('refuses one in customer and billing data even from the owner role, whoever writes it', async () => {
    await expect(
      t.admin.query("UPDATE core.customers SET contact_phone = '+4111111111111111' WHERE org_id = $1", [OTHER]),
    ).rejects.toThrow(/card number/);
    await expect(
      t.admin.query(
        `INSERT INTO core.billing_methods (org_id, processor_token, brand, last4, exp_month, exp_year, billing_email)
         VALUES ($1, '4111111111111111', 'visa', '1111', 1, 2030, 'b@example.com')`,
        [OTHER],
      ),
    ).rejects.toThrow(/card number/);
  });
});
