// Bulk rows of the demo data (customers, billing methods, daily usage, renewal outcomes).
//
// These are loaded directly as the database owner (cims_owner, through the
// migrator's connection), not through the API: the API has no bulk endpoints
// by design, cims_api may only call the api.* functions, and a million
// customers through single audited calls would take hours. Each batch is one
// transaction of parameterized `INSERT … SELECT FROM unnest($1::text[], …)`
// statements: a handful of array parameters per table, never SQL built from
// values. Predictions and the audit history go through the API (see seed.ts).
import type { SqlRunner } from '../../../api/src/db/migrate';
import type { GeneratedCustomer } from './generate';

async function script(db: SqlRunner, sql: string): Promise<void> {
  if (db.exec) await db.exec(sql);
  else await db.query(sql);
}

/** True when the database holds no customers yet (the stack seeds only then). */
export async function isEmpty(db: SqlRunner): Promise<boolean> {
  await script(db, 'BEGIN');
  try {
    await script(db, 'SET LOCAL ROLE cims_owner');
    const { rows } = await db.query('SELECT NOT EXISTS (SELECT 1 FROM core.customers) AS empty');
    return (rows[0] as { empty: boolean }).empty;
  } finally {
    await script(db, 'COMMIT');
  }
}

export async function loadBatch(db: SqlRunner, batch: readonly GeneratedCustomer[]): Promise<{ usageRows: number }> {
  const c = batch.map((g) => g.customer);
  const b = batch.flatMap((g) => g.billing);
  const u = batch.flatMap((g) => g.usage);
  await script(db, 'BEGIN');
  try {
    await script(db, 'SET LOCAL ROLE cims_owner');
    await db.query(
      `INSERT INTO core.customers (org_id, org_name, contact_name, contact_email, contact_phone, user_count,
         contract_value_cents, currency, renewal_date, owner_sub, owner_name, status, created_at, updated_at)
       SELECT o, n, cn, ce, cp, uc, cv, cur, rd, os, onm, st, ca, ca
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::bigint[], $8::text[],
                   $9::date[], $10::text[], $11::text[], $12::text[], $13::timestamptz[])
            AS x(o, n, cn, ce, cp, uc, cv, cur, rd, os, onm, st, ca)`,
      [
        c.map((x) => x.orgId),
        c.map((x) => x.orgName),
        c.map((x) => x.contactName),
        c.map((x) => x.contactEmail),
        c.map((x) => x.contactPhone),
        c.map((x) => x.userCount),
        c.map((x) => x.contractValueCents),
        c.map((x) => x.currency),
        c.map((x) => x.renewalDate),
        c.map((x) => x.ownerSub),
        c.map((x) => x.ownerName),
        c.map((x) => x.status),
        c.map((x) => x.createdAt),
      ],
    );
    await db.query(
      `INSERT INTO core.billing_methods (org_id, processor_token, brand, last4, exp_month, exp_year, billing_email)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::smallint[], $6::smallint[], $7::text[])`,
      [
        b.map((x) => x.orgId),
        b.map((x) => x.processorToken),
        b.map((x) => x.brand),
        b.map((x) => x.last4),
        b.map((x) => x.expMonth),
        b.map((x) => x.expYear),
        b.map((x) => x.billingEmail),
      ],
    );
    const o = batch.flatMap((g) => g.outcomes);
    if (o.length > 0) {
      await db.query(
        `INSERT INTO core.customer_outcomes (org_id, decided_on, outcome, seats_before, seats_after)
         SELECT * FROM unnest($1::text[], $2::date[], $3::text[], $4::int[], $5::int[])`,
        [o.map((x) => x.orgId), o.map((x) => x.decidedOn), o.map((x) => x.outcome), o.map((x) => x.seatsBefore), o.map((x) => x.seatsAfter)],
      );
    }
    if (u.length > 0) {
      await db.query(
        `INSERT INTO core.usage_daily (org_id, day, active_users, sessions, feature_events)
         SELECT * FROM unnest($1::text[], $2::date[], $3::int[], $4::int[], $5::int[])`,
        [u.map((x) => x.orgId), u.map((x) => x.day), u.map((x) => x.activeUsers), u.map((x) => x.sessions), u.map((x) => x.featureEvents)],
      );
    }
    await script(db, 'COMMIT');
  } catch (err) {
    await script(db, 'ROLLBACK').catch(() => undefined);
    throw err;
  }
  return { usageRows: u.length };
}
