// PUT /v1/predictions: model jobs (service accounts with `predictions:write`)
// deliver scored batches; the same prediction sent twice is stored once.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { PredictionBatch, PredictionBatchResult } from '../../../shared/api';
import { actorOf, requestContext } from '../guard';
import { AUTHENTICATED_PROBLEMS, problems, type RouteDeps } from './common';

export const predictionRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, { store }) => {
  app.put('/v1/predictions', {
    config: { access: 'service' },
    schema: {
      summary: 'Ingest a batch of predictions (idempotent per customer, model, version, kind and scoredAt)',
      body: PredictionBatch,
      response: { 200: PredictionBatchResult, ...problems(...AUTHENTICATED_PROBLEMS, 404, 413, 415) },
    },
    handler: async (req) => store.ingestPredictions(actorOf(req), requestContext(req), req.body),
  });
};
