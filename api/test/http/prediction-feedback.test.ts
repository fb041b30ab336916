// POST /v1/customers/:orgId/predictions/feedback: a CRM says a prediction looks
// wrong. The row keeps what the model said and its version, the audit event is
// written with it (the reason as the event's reason), data scientists see it in
// analytics.prediction_feedback without the CRM's identity, and a prediction
// that does not exist or a reason that says nothing changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEventCount, seedCustomer, seedPrediction } from '../../../testing/db';
import { dbState, expectProblem, startHarness, type Harness } from './harness';

let h: Harness;
const ORG = 'ORG-000201';
const ON = { kind: 'churn_risk', modelName: 'churn-logreg', modelVersion: '2026.11.20-0123456789ab', scoredAt: '2026-11-20T06:00:00.000Z' } as const;
const url = `/v1/customers/${ORG}/predictions/feedback`;

beforeAll(async () => {
  h = await startHarness();
  await seedCustomer(h.db.admin, { orgId: ORG, ownerSub: 'alice', ownerName: 'Alice Adams', orgName: 'Contoso Pharma' });
  await seedPrediction(h.db.admin, { orgId: ORG, score: 0.82, ...ON });
});
afterAll(() => h?.close());

describe('feedback on a prediction', () => {
  it('is stored with the model version and score, audited in the same transaction, and shown to analysts without who gave it', async () => {
    const events = await auditEventCount(h.db.admin);
    const res = await h.call('owner', 'POST', url, { body: { ...ON, verdict: 'looks_wrong', reason: '  They just signed a three-year renewal  ' } });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ orgId: ORG, kind: 'churn_risk', modelVersion: ON.modelVersion, verdict: 'looks_wrong', reason: 'They just signed a three-year renewal' });

    const row = (await h.db.admin.query('SELECT model_name, model_version, kind, score, reason, actor_sub FROM core.prediction_feedback')).rows;
    expect(row).toEqual([{ model_name: 'churn-logreg', model_version: ON.modelVersion, kind: 'churn_risk', score: 0.82, reason: 'They just signed a three-year renewal', actor_sub: 'alice' }]);
    expect(await auditEventCount(h.db.admin)).toBe(events + 1);
    const event = (await h.db.admin.query("SELECT actor_sub, action, entity_id, reason FROM audit.events WHERE action = 'prediction.feedback'")).rows;
    expect(event).toEqual([{ actor_sub: 'alice', action: 'prediction.feedback', entity_id: ORG, reason: 'They just signed a three-year renewal' }]);

    await h.db.admin.query('BEGIN');
    await h.db.admin.query('SET LOCAL ROLE cims_analyst');
    const seen = (await h.db.admin.query('SELECT * FROM analytics.prediction_feedback')).rows;
    await h.db.admin.query('COMMIT');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ model_version: ON.modelVersion, kind: 'churn_risk', score: 0.82, reason: 'They just signed a three-year renewal' });
    expect(JSON.stringify(seen)).not.toMatch(/alice|Alice|ORG-000201|Contoso/);

    // The record's history names it, for the CRMs who read it.
    const history = await h.call('otherCrm', 'GET', `/v1/customers/${ORG}/audit`);
    expect(history.statusCode, history.body).toBe(200);
    expect((history.json() as { items: Array<{ action: string }> }).items.map((e) => e.action)).toContain('prediction.feedback');
  });

  it('answers 404 for a prediction the customer does not have, and 400 for an empty reason, changing nothing', async () => {
    const before = await dbState(h.db);
    expectProblem(await h.call('owner', 'POST', url, { body: { ...ON, modelVersion: '0.0.0', verdict: 'looks_wrong', reason: 'Looks off to me' } }), 404);
    expectProblem(await h.call('owner', 'POST', '/v1/customers/ORG-999998/predictions/feedback', { body: { ...ON, verdict: 'looks_wrong', reason: 'Looks off to me' } }), 404);
    expectProblem(await h.call('owner', 'POST', url, { body: { ...ON, verdict: 'looks_wrong', reason: '   ' } }), 400);
    expectProblem(await h.call('owner', 'POST', url, { body: { ...ON, verdict: 'looks_right', reason: 'Looks fine' } }), 400);
    expectProblem(await h.call('lead', 'POST', url, { body: { ...ON, verdict: 'looks_wrong', reason: 'Looks off to me' } }), 403);
    expect(await dbState(h.db)).toBe(before);
  });
});
