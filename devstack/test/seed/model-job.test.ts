// The demo stack trains on its embedded database: the model job reads its
// features on PGlite through the migrator's connection as cims_model (the role
// switch is what limits it there), and gets the same decisions and scores as
// the generated history holds; the model role cannot read contact data there
// either.
import type { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../../api/src/db/migrate';
import { FEATURES } from '../../../models/job';
import { trainFrom } from '../../../models/run';
import { createPglite } from '../../src/pglite';
import { createGenerator } from '../../src/seed/generate';
import { loadBatch } from '../../src/seed/load';

let db: PGlite;
const options = { seed: 11, customers: 800, asOf: '2026-11-20' };

beforeAll(async () => {
  db = await createPglite();
  await migrate(db);
  for (const batch of createGenerator(options).batches(400)) await loadBatch(db, batch);
}, 120_000);
afterAll(() => db?.close());

describe('the model job on the embedded database', () => {
  it('trains on the generated decisions and scores every active customer with usage', async () => {
    const all = [...createGenerator(options).batches(800)].flat();
    const run = await trainFrom(db, () => undefined, new Date('2026-11-20T07:00:00Z'));
    const churn = run.trained.models.find((m) => m.kind === 'churn_risk')!;
    const decisions = all.flatMap((g) => g.outcomes).filter((o) => o.decidedOn >= '2026-07-19');
    expect(churn.trainRows + churn.heldOutRows).toBe(decisions.length);
    expect(churn.trainPositives + churn.heldOutPositives).toBe(decisions.filter((o) => o.outcome === 'churned').length);
    const active = all.filter((g) => g.customer.status === 'active').length;
    expect(run.predictions.filter((p) => p.kind === 'churn_risk')).toHaveLength(active);
    expect(run.predictions.every((p) => p.topFactors.length === FEATURES.length)).toBe(true);
  });

  it('reads as cims_model, which cannot see contact data', async () => {
    await db.exec('BEGIN; SET LOCAL ROLE cims_model');
    await expect(db.query('SELECT contact_email FROM core.customers LIMIT 1')).rejects.toThrow(/permission denied/);
    await db.exec('ROLLBACK');
    // The role ends with the transaction: the connection is the migrator again.
    expect((await db.query<{ u: string }>('SELECT current_user AS u')).rows[0]!.u).not.toBe('cims_model');
  });
});
