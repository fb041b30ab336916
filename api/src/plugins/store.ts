// The store as a decoration: routes reach the database through `app.store`.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Store } from '../db/store';

declare module 'fastify' {
  interface FastifyInstance {
    store: Store;
  }
}

export const storePlugin = fp<{ store: Store }>(
  async (app: FastifyInstance, { store }) => {
    app.decorate('store', store);
  },
  { name: 'cims-store', fastify: '5.x' },
);
