// Everything under /v1, registered with that prefix (app.ts): no route spells it.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { assignmentRoutes } from './assignments';
import { auditRoutes } from './audit';
import { changeRequestRoutes } from './change-requests';
import { customerRoutes } from './customers';
import { evidenceRoutes } from './evidence';
import { eventRoutes } from './events';
import { meRoutes } from './me';
import { portfolioRoutes } from './portfolio';
import { predictionRoutes } from './predictions';
import { selfRoutes } from './self';
import { staffRoutes } from './staff';

async function routes(app: FastifyInstance): Promise<void> {
  await app.register(meRoutes);
  await app.register(customerRoutes);
  await app.register(portfolioRoutes);
  await app.register(auditRoutes);
  await app.register(evidenceRoutes);
  await app.register(changeRequestRoutes);
  await app.register(eventRoutes);
  await app.register(predictionRoutes);
  await app.register(selfRoutes);
  await app.register(staffRoutes);
  await app.register(assignmentRoutes);
}

// Encapsulated like any route plugin; fastify-plugin only declares what it needs.
export const v1Routes = fp(routes, { name: 'cims-v1', fastify: '5.x', encapsulate: true, dependencies: ['cims-store', 'cims-auth', 'cims-openapi', 'cims-live'] });
