// PUT /v1/predictions: model jobs (service accounts with `predictions:write`)
// deliver scored batches; the same prediction sent twice is stored once.
import type { FastifyInstance } from 'fastify';
import { endpoints } from '../../../../shared/http';
import { actorOf, requestContext } from '../../plugins/auth';
import { route } from '../route';

export async function predictionRoutes(app: FastifyInstance): Promise<void> {
  route(app, endpoints['predictions.ingest'], async ({ body }, req) => app.store.ingestPredictions(actorOf(req), requestContext(req), body));
  // A CRM's feedback on a prediction the record shows (any customer a CRM may read).
  route(app, endpoints['customers.predictionFeedback'], async ({ params, body }, req) =>
    app.store.predictionFeedback(actorOf(req), requestContext(req), params.orgId, body),
  );
}
