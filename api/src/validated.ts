// Validated once. The store parses what the database returns with the shared
// zod schemas, and the HTTP layer validates every response against its route's
// schema before sending it: for a customer record that is the same parse twice
// (about 18 µs each, the largest cost of a read in the API process). So the
// store parses records with `parseOnce`, which freezes the result and notes
// the schema; the serializer sends a value as it is only when it was parsed
// with the very schema the route declares. Frozen, it cannot have changed
// since. Anything else is validated as before.
import { serializerCompiler as zodSerializerCompiler } from 'fastify-type-provider-zod';
import type { z } from 'zod';

const parsedWith = new WeakMap<object, z.ZodType>();

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** `schema.parse(value)`, frozen, and remembered as valid for `schema`. */
export function parseOnce<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = deepFreeze(schema.parse(value));
  if (typeof parsed === 'object' && parsed !== null) parsedWith.set(parsed, schema);
  return parsed;
}

/** Fastify's response serializer: zod validation, skipped for values `parseOnce` parsed with the route's own schema. */
export const serializerCompiler: typeof zodSerializerCompiler = (route) => {
  const validateAndSerialize = zodSerializerCompiler(route);
  return (data) =>
    typeof data === 'object' && data !== null && parsedWith.get(data) === route.schema ? JSON.stringify(data) : validateAndSerialize(data);
};
