// Runs the model job end to end: features (as cims_model), training and
// evaluation, then the scores through PUT /v1/predictions with the model
// runner's token. Used by `npm run models` and by the demo stack when it seeds.
import type { Prediction, PredictionBatchResult } from '../shared/api';
import type { SqlRunner } from '../api/src/db/migrate';
import { apiCall, predictionBatches } from '../devstack/src/seed/api-client';
import { describe, predictionsOf, readFeatures, train, type TrainedModels } from './job';

export interface TrainedRun {
  trained: TrainedModels;
  predictions: Prediction[];
}

/** Reads and trains; nothing is published yet (the demo stack trains before its API is up). */
export async function trainFrom(db: SqlRunner, log: (line: string) => void = () => {}, now = new Date()): Promise<TrainedRun> {
  const started = Date.now();
  const features = await readFeatures(db);
  log(`model job: ${features.decisions.length} renewal decisions to learn from, ${features.current.length} active customers to score (features as of ${features.asOf})`);
  const trained = await train(features, now);
  for (const line of describe(trained)) log(`model job: ${line}`);
  log(`model job: trained in ${Date.now() - started} ms`);
  return { trained, predictions: predictionsOf(trained, features.current, now.toISOString()) };
}

/** Publishes the scores with the model runner's token (`token(true)` asks for a fresh one). */
export async function publish(apiUrl: string, token: (force?: boolean) => Promise<string>, predictions: readonly Prediction[], signal?: AbortSignal): Promise<PredictionBatchResult> {
  const totals = { accepted: 0, duplicates: 0 };
  for (const batch of predictionBatches(predictions)) {
    signal?.throwIfAborted();
    const { body } = await apiCall<PredictionBatchResult>(apiUrl, await token(), 'PUT', '/v1/predictions', { predictions: batch }, signal ? { signal } : {});
    totals.accepted += body.accepted;
    totals.duplicates += body.duplicates;
  }
  return totals;
}
