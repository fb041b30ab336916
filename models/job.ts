// The model job: reads features through its own role (cims_model, schema
// model_input: org ids and figures, no name or contact), trains a churn model
// and an upsell model on past renewal decisions with models/train.py (Debian's
// python3-sklearn), evaluates them on held-out customers and publishes every
// active customer's scores with the model's own per-feature contributions
// through PUT /v1/predictions, with its client-credentials token.
//
// Features describe the 8 weeks before a moment: a renewal decision for the
// training rows, the day after the newest usage for the customers scored.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Prediction, PredictionKind } from '../shared/api';
import type { SqlRunner } from '../api/src/db/migrate';

export const FEATURES = ['active_users_trend_4w', 'seat_utilization', 'tenure_years', 'seat_price', 'log_seats', 'sessions_per_active_user'] as const;
export type Feature = (typeof FEATURES)[number];

export const MODEL_NAMES: Record<PredictionKind, string> = { churn_risk: 'churn-logreg', upsell_propensity: 'upsell-logreg' };
/** Share of customers (by a hash of the org id) kept out of training to evaluate on. */
export const HELD_OUT_SHARE = 0.25;
export const PYTHON = process.env.CIMS_PYTHON ?? '/usr/bin/python3';
const TRAIN_PY = join(dirname(fileURLToPath(import.meta.url)), 'train.py');

export interface FeatureRow {
  orgId: string;
  x: number[];
}
export interface DecisionRow extends FeatureRow {
  decidedOn: string;
  churned: boolean;
  expanded: boolean;
}
export interface FeatureSet {
  /** The day the scored customers' features are computed for. */
  asOf: string;
  decisions: DecisionRow[];
  current: FeatureRow[];
}

// One expression list for both moments: m is the moment, s the seats, v the contract value.
const FEATURE_SQL = `
  avg(u.active_users) FILTER (WHERE u.day >= m - 28)::float8 / greatest(avg(u.active_users) FILTER (WHERE u.day < m - 28), 0.5) - 1,
  coalesce(avg(u.active_users) FILTER (WHERE u.day >= m - 28), 0)::float8 / greatest(s, 1),
  (m - c.created_on) / 365.0,
  c.contract_value_cents::float8 / greatest(c.user_count, 1) / 100 / 12,
  ln(greatest(s, 1)),
  coalesce(sum(u.sessions) FILTER (WHERE u.day >= m - 28), 0)::float8 / greatest(sum(u.active_users) FILTER (WHERE u.day >= m - 28), 1)`;
// Both 4-week windows must have usage, and the usage must begin 8 weeks before the moment at the
// latest: a decision with less history before it would be learnt from half a window.
const HAVING = 'HAVING count(*) FILTER (WHERE u.day >= m - 28) > 0 AND count(*) FILTER (WHERE u.day < m - 28) > 0';
const COVERED = (org: string) => `(SELECT min(f.day) FROM model_input.usage_daily f WHERE f.org_id = ${org}) <= k.m - 56`;

const DECISIONS_SQL = `
  SELECT o.org_id AS "orgId", to_char(o.decided_on, 'YYYY-MM-DD') AS "decidedOn", o.outcome = 'churned' AS churned,
         o.seats_after > o.seats_before AS expanded, ARRAY[${FEATURE_SQL}] AS x
    FROM model_input.outcomes o
    JOIN model_input.customers c USING (org_id)
    CROSS JOIN LATERAL (SELECT o.decided_on AS m, o.seats_before AS s) k
    JOIN model_input.usage_daily u ON u.org_id = o.org_id AND u.day >= k.m - 56 AND u.day < k.m
   WHERE ${COVERED('o.org_id')}
   GROUP BY o.org_id, o.decided_on, o.outcome, o.seats_before, o.seats_after, c.created_on, c.contract_value_cents, c.user_count, k.m, k.s
   ${HAVING}
   ORDER BY o.org_id, o.decided_on`;

const CURRENT_SQL = `
  WITH moment AS (SELECT max(day) + 1 AS m FROM model_input.usage_daily)
  SELECT c.org_id AS "orgId", ARRAY[${FEATURE_SQL}] AS x
    FROM model_input.customers c
    CROSS JOIN LATERAL (SELECT moment.m, c.user_count AS s FROM moment) k
    JOIN model_input.usage_daily u ON u.org_id = c.org_id AND u.day >= k.m - 56 AND u.day < k.m
   WHERE c.status = 'active' AND ${COVERED('c.org_id')}
   GROUP BY c.org_id, c.created_on, c.contract_value_cents, c.user_count, k.m, k.s
   ${HAVING}
   ORDER BY c.org_id`;

async function script(db: SqlRunner, sql: string): Promise<void> {
  if (db.exec) await db.exec(sql);
  else await db.query(sql);
}

/**
 * The features, read as cims_model. `db` is either a login as cims_model or a superuser's
 * connection (the demo stack's migrator), which takes that role for the transaction: either way
 * the reads have exactly the model role's privileges.
 */
export async function readFeatures(db: SqlRunner): Promise<FeatureSet> {
  await script(db, 'BEGIN');
  try {
    await script(db, 'SET LOCAL ROLE cims_model');
    const decisions = (await db.query(DECISIONS_SQL)).rows as DecisionRow[];
    const current = (await db.query(CURRENT_SQL)).rows as FeatureRow[];
    const asOf = (await db.query("SELECT to_char(max(day) + 1, 'YYYY-MM-DD') AS d FROM model_input.usage_daily")).rows[0] as { d: string | null };
    await script(db, 'COMMIT');
    return { asOf: asOf.d ?? new Date().toISOString().slice(0, 10), decisions: decisions.map(numeric), current: current.map(numeric) };
  } catch (err) {
    await script(db, 'ROLLBACK').catch(() => undefined);
    throw err;
  }
}

// node-postgres returns float8[] as numbers, PGlite too; a NULL (no usage) would stop training.
function numeric<T extends FeatureRow>(r: T): T {
  return { ...r, x: r.x.map((v) => (v === null || !Number.isFinite(Number(v)) ? 0 : Number(v))) };
}

/** Held out by the org id's hash, so a customer's decisions are all on one side, run after run. */
export function isHeldOut(orgId: string): boolean {
  return createHash('sha256').update(orgId).digest().readUInt32BE(0) / 2 ** 32 < HELD_OUT_SHARE;
}

export interface ModelReport {
  kind: PredictionKind;
  features: Feature[];
  coefficients: number[];
  baseValue: number;
  trainRows: number;
  trainPositives: number;
  heldOutRows: number;
  heldOutPositives: number;
  heldOutAuc: number | null;
  heldOutBrier?: number;
  calibration?: Array<{ predicted: number; observed: number }>;
  scores: Array<{ orgId: string; score: number; contributions: number[] }>;
}

export interface TrainedModels {
  /** `<training date>-<hash of the training data>`, e.g. 2026.12.01-3f2a9c1b0d4e. */
  version: string;
  trainingDataHash: string;
  models: ModelReport[];
}

/** The rows each model trains on: churn over every decision, upsell over the renewals. */
function trainingJob(f: FeatureSet) {
  const row = (d: DecisionRow, y: boolean) => ({ x: d.x, y: y ? 1 : 0, heldOut: isHeldOut(d.orgId) });
  return {
    features: FEATURES,
    models: [
      { kind: 'churn_risk', train: f.decisions.map((d) => row(d, d.churned)), score: f.current },
      { kind: 'upsell_propensity', train: f.decisions.filter((d) => !d.churned).map((d) => row(d, d.expanded)), score: f.current },
    ],
  };
}

function runPython(input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [TRAIN_PY], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', (e) => reject(new Error(`cannot run ${PYTHON} (install python3-sklearn, python3-numpy): ${e.message}`)));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`models/train.py failed (${code}): ${err.trim().split('\n').slice(-3).join(' ')}`))));
    child.stdin.end(input);
  });
}

export async function train(f: FeatureSet, now = new Date()): Promise<TrainedModels> {
  const job = trainingJob(f);
  // The training data is every model's rows without the rows to score: what the version names.
  const trainingDataHash = createHash('sha256')
    .update(JSON.stringify({ features: job.features, models: job.models.map((m) => ({ kind: m.kind, train: m.train })) }))
    .digest('hex');
  const result = JSON.parse(await runPython(JSON.stringify(job))) as { models: ModelReport[] };
  const date = now.toISOString().slice(0, 10).replaceAll('-', '.');
  return { version: `${date}-${trainingDataHash.slice(0, 12)}`, trainingDataHash, models: result.models };
}

const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

/**
 * The scores as the API takes them: every feature's contribution (log-odds, largest first)
 * with the feature's value, so the sum with the model's base value is the score's log-odds.
 */
export function predictionsOf(trained: TrainedModels, current: FeatureRow[], scoredAt: string): Prediction[] {
  const values = new Map(current.map((r) => [r.orgId, r.x]));
  return trained.models.flatMap((m) =>
    m.scores.map((s): Prediction => ({
      orgId: s.orgId,
      kind: m.kind,
      modelName: MODEL_NAMES[m.kind],
      modelVersion: trained.version,
      score: Math.min(1, Math.max(0, s.score)),
      topFactors: m.features
        .map((factor, i) => ({ factor, weight: round4(s.contributions[i]!), value: round4(values.get(s.orgId)?.[i] ?? 0) }))
        .sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight)),
      scoredAt,
    })),
  );
}

/** What the job prints about each model: sizes, held-out AUC and calibration. */
export function describe(trained: TrainedModels): string[] {
  const lines = [`model version ${trained.version} (training data sha256 ${trained.trainingDataHash})`];
  for (const m of trained.models) {
    const auc = m.heldOutAuc === null ? 'n/a (one class held out)' : m.heldOutAuc.toFixed(3);
    lines.push(
      `${MODEL_NAMES[m.kind]}: trained on ${m.trainRows} decisions (${m.trainPositives} positive), held out ${m.heldOutRows} (${m.heldOutPositives} positive): ` +
        `AUC ${auc}${m.heldOutBrier !== undefined ? `, Brier ${m.heldOutBrier.toFixed(3)}` : ''}`,
    );
    if (m.calibration) lines.push(`  calibration (predicted -> observed): ${m.calibration.map((c) => `${c.predicted.toFixed(2)}->${c.observed.toFixed(2)}`).join(', ')}`);
    lines.push(`  coefficients: ${m.features.map((f, i) => `${f} ${m.coefficients[i]!.toFixed(2)}`).join(', ')}, base ${m.baseValue.toFixed(2)}`);
  }
  return lines;
}
