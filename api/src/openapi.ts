// The OpenAPI 3.1 document, generated from the very zod schemas the routes
// validate with: every route registered on the app is collected as it is added,
// so the document cannot forget one.
import type { RouteOptions } from 'fastify';
import { z } from 'zod';
import type { Access } from './guard';
import { PROBLEM_CONTENT_TYPE } from './problem';

type JsonSchema = Record<string, unknown>;

interface CollectedRoute {
  method: string;
  url: string;
  access: Access | undefined;
  summary: string | undefined;
  schema: RouteSchema;
}

interface RouteSchema {
  params?: unknown;
  querystring?: unknown;
  body?: unknown;
  response?: Record<string, unknown>;
  produces?: readonly string[];
  ifMatch?: boolean;
}

declare module 'fastify' {
  interface FastifySchema {
    summary?: string;
    /** Content type of the success response when it is not JSON (e.g. text/csv). */
    produces?: readonly string[];
    /** The route requires `If-Match` (checked by the handler, so that a missing one is 428, not 400). */
    ifMatch?: boolean;
  }
}

export interface OpenApiCollector {
  onRoute(route: RouteOptions): void;
  document(info: { title: string; version: string }): JsonSchema;
}

const isZod = (s: unknown): s is z.ZodType => s instanceof z.ZodType;

function toJson(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const json = z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any' }) as JsonSchema;
  delete json.$schema;
  return json;
}

export function createOpenApiCollector(): OpenApiCollector {
  const routes: CollectedRoute[] = [];
  let cached: JsonSchema | null = null;

  return {
    onRoute(route) {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      for (const method of methods) {
        if (method === 'HEAD' || method === 'OPTIONS') continue;
        const schema = (route.schema ?? {}) as RouteSchema & { summary?: string };
        routes.push({ method: method.toLowerCase(), url: route.url, access: route.config?.access, summary: schema.summary, schema });
      }
      cached = null;
    },
    document(info) {
      cached ??= build(routes, info);
      return cached;
    },
  };
}

function build(routes: CollectedRoute[], info: { title: string; version: string }): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const op: Record<string, unknown> = {
      operationId: `${route.method}${path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
    };
    if (route.summary) op.summary = route.summary;
    op.security = route.access === 'public' ? [] : [{ bearer: [] }];
    if (route.access && route.access !== 'public') {
      op['x-cims-access'] = typeof route.access === 'string' ? route.access : [...route.access];
    }

    const parameters = [
      ...parametersFrom(route.schema.params, 'path'),
      ...parametersFrom(route.schema.querystring, 'query'),
      ...(route.schema.ifMatch ? [IF_MATCH_PARAMETER] : []),
    ];
    if (parameters.length) op.parameters = parameters;
    if (isZod(route.schema.body)) {
      op.requestBody = { required: true, content: { 'application/json': { schema: toJson(route.schema.body, 'input') } } };
    }

    const responses: Record<string, unknown> = {};
    for (const [status, schema] of Object.entries(route.schema.response ?? {})) {
      if (!isZod(schema)) continue;
      const isError = Number(status) >= 400;
      const contentType = isError ? PROBLEM_CONTENT_TYPE : (route.schema.produces?.[0] ?? 'application/json');
      responses[status] = {
        description: isError ? 'Problem details (RFC 9457)' : 'Success',
        content: { [contentType]: { schema: toJson(schema, 'output') } },
      };
    }
    op.responses = responses;
    (paths[path] ??= {})[route.method] = op;
  }

  return {
    openapi: '3.1.0',
    info,
    servers: [{ url: '/' }],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    paths,
  };
}

function parametersFrom(schema: unknown, where: 'path' | 'query'): JsonSchema[] {
  if (!isZod(schema)) return [];
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
