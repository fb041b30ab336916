// The OpenAPI 3.1 document, generated from the HTTP contract (shared/http.ts)
// with zod's own JSON Schema output: the very schemas the routes validate with.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { z } from 'zod';
import { isSuccessStatus, type Endpoint } from '../../../shared/http';
import { PROBLEM_CONTENT_TYPE } from './problems';

type JsonSchema = Record<string, unknown>;

declare module 'fastify' {
  interface FastifyInstance {
    /** The OpenAPI document, built on first use. */
    openapi(): JsonSchema;
  }
}

function toJson(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const json = z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any' }) as JsonSchema;
  delete json.$schema;
  return json;
}

const camel = (path: string) =>
  path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''));

function parametersFrom(schema: z.ZodType | undefined, where: 'path' | 'query'): JsonSchema[] {
  if (!schema) return [];
  const json = toJson(schema, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || (json.required ?? []).includes(name),
    schema: s,
  }));
}

// Writes to an existing customer need the ETag from the last read (428 without it, 412 when stale).
const IF_MATCH_PARAMETER = { name: 'If-Match', in: 'header', required: true, schema: { type: 'string', pattern: '^"[0-9]+"$' } };

function operation(endpoint: Endpoint, path: string): JsonSchema {
  const method = endpoint.method.toLowerCase();
  const op: JsonSchema = { operationId: `${method}${camel(path)}`, summary: endpoint.summary };
  op.security = endpoint.access === 'public' ? [] : [{ bearer: [] }];
  if (endpoint.access !== 'public') op['x-cims-access'] = typeof endpoint.access === 'string' ? endpoint.access : [...endpoint.access];
  const parameters = [
    ...parametersFrom(endpoint.params, 'path'),
    ...parametersFrom(endpoint.query, 'query'),
    ...(endpoint.ifMatch ? [IF_MATCH_PARAMETER] : []),
  ];
  if (parameters.length) op.parameters = parameters;
  if (endpoint.body) op.requestBody = { required: true, content: { 'application/json': { schema: toJson(endpoint.body, 'input') } } };
  const responses: JsonSchema = {};
  for (const [status, schema] of Object.entries(endpoint.responses)) {
    const isError = !isSuccessStatus(endpoint, Number(status));
    const contentType = isError ? PROBLEM_CONTENT_TYPE : (endpoint.produces ?? 'application/json');
    responses[status] = {
      description: isError ? 'Problem details (RFC 9457)' : 'Success',
      content: { [contentType]: { schema: toJson(schema, 'output') } },
    };
  }
  op.responses = responses;
  return op;
}

export function openApiDocument(contract: Readonly<Record<string, Endpoint>>, info: { title: string; version: string }): JsonSchema {
  const paths: Record<string, JsonSchema> = {};
  for (const endpoint of Object.values(contract)) {
    const path = endpoint.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    (paths[path] ??= {})[endpoint.method.toLowerCase()] = operation(endpoint, path);
  }
  return {
    openapi: '3.1.0',
    info,
    servers: [{ url: '/' }],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    paths,
  };
}

export interface OpenApiPluginOptions {
  contract: Readonly<Record<string, Endpoint>>;
  info: { title: string; version: string };
}

/**
 * Serves the document and keeps it true: a route the contract does not declare
 * fails its registration, and an endpoint without a route fails the start.
 */
export const openApiPlugin = fp<OpenApiPluginOptions>(
  async (app: FastifyInstance, { contract, info }) => {
    let document: JsonSchema | null = null;
    app.decorate('openapi', () => (document ??= openApiDocument(contract, info)));

    const declared = new Set(Object.values(contract).map((e) => `${e.method} ${e.path}`));
    const registered = new Set<string>();
    app.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) {
        if (method === 'HEAD') continue; // Fastify adds HEAD to every GET
        const key = `${method} ${route.url}`;
        if (!declared.has(key)) throw new Error(`${key} is not declared in the HTTP contract (shared/http.ts)`);
        registered.add(key);
      }
    });
    app.addHook('onReady', async () => {
      const missing = [...declared].filter((key) => !registered.has(key));
      if (missing.length) throw new Error(`No route for ${missing.join(', ')}`);
    });
  },
  { name: 'cims-openapi', fastify: '5.x' },
);
