// /v1/portfolio: a CRM's own portfolio in numbers. The database function counts
// and authorizes again (crm only); counts name no customer, so no access event.
import type { FastifyInstance } from 'fastify';
import { endpoints } from '../../../../shared/http';
import { actorOf } from '../../plugins/auth';
import { route } from '../route';

export async function portfolioRoutes(app: FastifyInstance): Promise<void> {
  const { store } = app;

  route(app, endpoints['portfolio.summary'], async (_input, req) => store.portfolioSummary(actorOf(req)));
}
