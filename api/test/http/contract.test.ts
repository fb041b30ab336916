// The HTTP contract and the API agree: every endpoint has a route, every route
// is an endpoint, and the OpenAPI document lists each with its statuses.
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENDPOINT_NAMES, endpoints, successStatus, type Endpoint } from '../../../shared/http';
import { buildApp, type App } from '../../src/app';
import type { Store } from '../../src/db/store';
import { openApiPlugin } from '../../src/plugins/openapi';
import { createTestAudit } from '../../../testing/audit';

// Routing and the document only: no request here reaches the store.
const unusedStore = {} as Store;

const audit = createTestAudit();
let app: App;
beforeAll(async () => {
  app = await buildApp({ store: unusedStore, audit: audit.config, issuer: 'http://127.0.0.1:9', logger: false });
});
afterAll(async () => {
  await app.close();
  audit.cleanup();
});

type OpenApi = { paths: Record<string, Record<string, { responses: Record<string, unknown>; parameters?: { name: string; in: string }[] }>> };

describe('the HTTP contract', () => {
  it('has a route for every endpoint', () => {
    for (const name of ENDPOINT_NAMES) {
      const { method, path } = endpoints[name];
      expect(app.hasRoute({ method, url: path }), `${name}: ${method} ${path}`).toBe(true);
    }
  });

  it('refuses to start when a route is not in the contract or an endpoint has no route', async () => {
    const extra = Fastify();
    await extra.register(openApiPlugin, { contract: {}, info: { title: 't', version: '1' } });
    expect(() => extra.get('/v1/secret', async () => 'x')).toThrow(/GET \/v1\/secret is not declared/);

    const missing = Fastify();
    await missing.register(openApiPlugin, { contract: { get: endpoints['customers.get'] }, info: { title: 't', version: '1' } });
    await expect(missing.ready()).rejects.toThrow('No route for GET /v1/customers/:orgId');
  });

  it('is what the OpenAPI document lists, each endpoint with its statuses', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json() as OpenApi;
    const listed = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    const declared = Object.values(endpoints as Record<string, Endpoint>).map((e) => `${e.method} ${e.path.replace(/:(\w+)/g, '{$1}')}`);
    expect(listed.sort()).toEqual(declared.sort());
    for (const endpoint of Object.values(endpoints as Record<string, Endpoint>)) {
      const op = doc.paths[endpoint.path.replace(/:(\w+)/g, '{$1}')]?.[endpoint.method.toLowerCase()];
      expect(Object.keys(op?.responses ?? {}).sort(), endpoint.path).toEqual(Object.keys(endpoint.responses).sort());
      expect(op?.responses[String(successStatus(endpoint))]).toBeTruthy();
      expect(op?.parameters?.some((p) => p.in === 'header' && p.name === 'If-Match') ?? false, endpoint.path).toBe(endpoint.ifMatch === true);
    }
  });

  it('documents the CSV export as text/csv and problems as problem+json', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/v1/openapi.json' })).json() as {
      paths: Record<string, Record<string, { responses: Record<string, { content: Record<string, unknown> }> }>>;
    };
    const csv = doc.paths['/v1/audit/events.csv']?.get?.responses;
    expect(Object.keys(csv?.['200']?.content ?? {})).toEqual(['text/csv']);
    expect(Object.keys(csv?.['403']?.content ?? {})).toEqual(['application/problem+json']);
  });

  it('checks the caller before it reads a body, on every route the contract declares and under /v1 beyond it', async () => {
    for (const url of ['/v1/customers', '/v1/no-such-thing']) {
      const res = await app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: '{not json' });
      expect(res.statusCode, url).toBe(401);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-request-id']).toBeTruthy();
    }
  });
});
