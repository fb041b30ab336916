// fast-check arbitraries derived from the shared zod schemas (zod-fast-check
// supports zod 3 only), and hostile values mixed into the shapes they make.
// The derivation reads each schema's own definition (type, checks, shape), so a
// field added to a contract is generated without a change here. `hints` give
// values worth more than random text for a schema (known org ids, so a request
// reaches a record instead of a 404).
import fc from 'fast-check';
import type { z } from 'zod';

/** What the derivation reads of a zod 4 schema's internals (`schema._zod.def`). */
interface Def {
  type: string;
  format?: string;
  checks?: { _zod: { def: CheckDef } }[];
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  values?: unknown[];
  entries?: Record<string, unknown>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  keyType?: z.ZodType;
  valueType?: z.ZodType;
  pattern?: RegExp;
}
interface CheckDef {
  check: string;
  format?: string;
  pattern?: RegExp;
  minimum?: number;
  maximum?: number;
  length?: number;
  value?: number;
  inclusive?: boolean;
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

export type Hints = ReadonlyMap<z.ZodType, fc.Arbitrary<unknown>>;

/** Strings that are valid JSON text but that PostgreSQL, a parser or a renderer may trip on. */
export const HOSTILE_STRINGS: readonly string[] = [
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff',
  'x\udc00y',
  '\ud83d',
  '\u202e\u0041',
  '\ufeff',
  '\u2028\u2029',
  "'; DROP TABLE core.customers; --",
  '%00',
  '\\u0000',
  '<script>alert(1)</script>',
  '../../../etc/passwd',
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🚀',
  ' ',
  '',
  'x'.repeat(10_000),
];

export const HOSTILE_NUMBERS: readonly number[] = [
  -1,
  -0,
  2 ** 31,
  2 ** 53 + 2,
  -(2 ** 63),
  1e21,
  1e308,
  -1e308,
  Number.MIN_VALUE,
  0.1,
];

export const HOSTILE_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype', 'toString', '', '\u0000'];

// Mostly this century; some at the ends of what ISO 8601's four-digit years (and PostgreSQL) allow.
const dates = fc.oneof(
  { weight: 4, arbitrary: fc.date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true }) },
  { weight: 1, arbitrary: fc.date({ min: new Date('0000-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }) },
);

function stringArb(def: Def, hints: Hints, schema: z.ZodType): fc.Arbitrary<string> {
  const hinted = hints.get(schema) as fc.Arbitrary<string> | undefined;
  if (hinted) return hinted;
  let min = 0;
  let max = 40;
  let pattern: RegExp | undefined;
  for (const c of def.checks ?? []) {
    const d = c._zod.def;
    if (d.check === 'min_length' && d.minimum !== undefined) min = d.minimum;
    if (d.check === 'max_length' && d.maximum !== undefined) max = Math.min(Math.max(d.maximum, min), min + 60);
    if (d.check === 'length_equals' && d.length !== undefined) min = max = d.length;
    if (d.check === 'string_format' && d.format === 'regex' && d.pattern) pattern = d.pattern;
  }
  switch (def.format) {
    case 'email':
      // fc.emailAddress() follows RFC 5322, whose local parts zod refuses: mostly plain addresses, some of those.
      return fc.oneof(
        { weight: 4, arbitrary: fc.tuple(fc.stringMatching(/^[a-z0-9][a-z0-9.+_-]{0,15}$/), fc.stringMatching(/^[a-z0-9]{1,12}$/)).map(([l, d]) => `${l}@${d}.example`) },
        { weight: 1, arbitrary: fc.emailAddress().filter((e) => e.length <= 254) },
      );
    case 'date':
      return dates.map((d) => d.toISOString().slice(0, 10));
    case 'datetime':
      return dates.map((d) => d.toISOString());
    case 'uuid':
      return fc.uuid();
    default:
  }
  if (pattern) return fc.stringMatching(pattern);
  return fc.string({ minLength: min, maxLength: max, unit: 'grapheme' }).map((s) => (s.length < min ? s.padEnd(min, 'x') : s));
}

function numberArb(def: Def): fc.Arbitrary<number> {
  let min = -1e6;
  let max = 1e6;
  for (const c of def.checks ?? []) {
    const d = c._zod.def;
    if (d.check === 'greater_than' && d.value !== undefined) min = d.value + (d.inclusive ? 0 : 1e-9);
    if (d.check === 'less_than' && d.value !== undefined) max = d.value - (d.inclusive ? 0 : 1e-9);
  }
  if (def.format === 'safeint' || def.format === 'int32') return fc.integer({ min: Math.ceil(min), max: Math.floor(max) });
  return fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
}

/** An arbitrary of values the schema accepts (as input: what a caller sends). */
export function arbitraryFor(schema: z.ZodType, hints: Hints = new Map(), depth = 0): fc.Arbitrary<unknown> {
  const hinted = hints.get(schema);
  if (hinted) return hinted;
  const def = defOf(schema);
  switch (def.type) {
    case 'string':
      return stringArb(def, hints, schema);
    case 'number':
      return numberArb(def);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'literal':
      return fc.constantFrom(...(def.values ?? [null]));
    case 'enum':
      return fc.constantFrom(...Object.values(def.entries ?? {}));
    case 'optional':
      return fc.option(arbitraryFor(def.innerType!, hints, depth), { nil: undefined, freq: 3 });
    case 'nullable':
      return fc.option(arbitraryFor(def.innerType!, hints, depth), { nil: null, freq: 4 });
    case 'default':
    case 'prefault':
    case 'catch':
    case 'readonly':
    case 'nonoptional':
      return fc.option(arbitraryFor(def.innerType!, hints, depth), { nil: undefined, freq: 3 });
    case 'pipe': {
      // A codec such as z.stringbool(): the text forms of its output.
      if (defOf(def.out!).type === 'boolean') return fc.constantFrom('true', 'false', '1', '0', 'yes', 'no', 'on', 'off');
      return arbitraryFor(def.in!, hints, depth);
    }
    case 'array': {
      let min = 0;
      let max = 3;
      for (const c of def.checks ?? []) {
        const d = c._zod.def;
        if (d.check === 'min_length' && d.minimum !== undefined) min = d.minimum;
        if (d.check === 'max_length' && d.maximum !== undefined) max = Math.min(d.maximum, min + 3);
      }
      if (depth > 4) return fc.constant([]);
      return fc.array(arbitraryFor(def.element!, hints, depth + 1), { minLength: min, maxLength: Math.max(min, max) });
    }
    case 'object': {
      const shape = def.shape ?? {};
      const keys = Object.keys(shape);
      const optional = keys.filter((k) => ['optional', 'default', 'prefault'].includes(defOf(shape[k]!).type));
      return fc
        .record(Object.fromEntries(keys.map((k) => [k, arbitraryFor(shape[k]!, hints, depth + 1)])), { requiredKeys: keys.filter((k) => !optional.includes(k)) })
        .map((o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)));
    }
    case 'union':
      return fc.oneof(...(def.options ?? []).map((o) => arbitraryFor(o, hints, depth + 1)));
    case 'record':
      return depth > 4 ? fc.constant({}) : fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 });
    case 'custom':
    case 'unknown':
    case 'any':
      return fc.jsonValue({ maxDepth: 2 });
    default:
      throw new Error(`arbitraryFor: no derivation for zod type ${def.type}`);
  }
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Paths to every leaf and object in a value, for mutations. */
function nodes(v: unknown, path: (string | number)[] = [], out: { path: (string | number)[]; value: unknown }[] = []) {
  out.push({ path, value: v });
  if (Array.isArray(v)) v.forEach((x, i) => nodes(x, [...path, i], out));
  else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) nodes(x, [...path, k], out);
  return out;
}

function setAt(root: unknown, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const copy: Record<string | number, unknown> | unknown[] = Array.isArray(root) ? [...(root as unknown[])] : { ...(root as object) };
  const [head, ...rest] = path;
  (copy as Record<string | number, unknown>)[head!] = setAt((copy as Record<string | number, unknown>)[head!], rest, value);
  return copy;
}

/** One hostile change to a valid value: a string, number, key or shape that is wrong in a way worth trying. */
export const mutation: fc.Arbitrary<(v: unknown) => { value: unknown; raw?: string }> = fc.oneof(
  fc.record({ s: fc.constantFrom(...HOSTILE_STRINGS), pick: fc.nat(), embed: fc.boolean() }).map(({ s, pick, embed }) => (v: unknown) => {
    const strings = nodes(v).filter((n) => typeof n.value === 'string');
    const target = strings[pick % Math.max(strings.length, 1)];
    if (!target) return { value: v };
    return { value: setAt(v, target.path, embed ? `${String(target.value)}${s}` : s) };
  }),
  fc.record({ n: fc.constantFrom(...HOSTILE_NUMBERS), pick: fc.nat() }).map(({ n, pick }) => (v: unknown) => {
    const numbers = nodes(v).filter((x) => typeof x.value === 'number');
    const target = numbers[pick % Math.max(numbers.length, 1)];
    return { value: target ? setAt(v, target.path, n) : v };
  }),
  fc.record({ key: fc.constantFrom(...HOSTILE_KEYS), pick: fc.nat() }).map(({ key, pick }) => (v: unknown) => {
    const objects = nodes(v).filter((x) => typeof x.value === 'object' && x.value !== null && !Array.isArray(x.value));
    const target = objects[pick % Math.max(objects.length, 1)];
    if (!target) return { value: v };
    // JSON.stringify drops nothing here, but `{...}` would turn __proto__ into a prototype: write the key as text.
    const json = JSON.stringify(setAt(v, target.path, { ...(target.value as object), __fuzz_key__: { admin: true } }));
    return { value: v, raw: json.replace('"__fuzz_key__"', JSON.stringify(key)) };
  }),
  fc.record({ pick: fc.nat(), size: fc.constantFrom(1001, 20_000) }).map(({ pick, size }) => (v: unknown) => {
    const targets = nodes(v).filter((x) => Array.isArray(x.value) || typeof x.value === 'string');
    const target = targets[pick % Math.max(targets.length, 1)];
    if (!target) return { value: v };
    const big = Array.isArray(target.value) ? Array.from({ length: size }, () => (target.value as unknown[])[0] ?? 0) : 'y'.repeat(size);
    return { value: setAt(v, target.path, big) };
  }),
  fc.constantFrom('null', '[]', '"text"', '0', 'true').map((raw) => () => ({ value: null, raw })),
  fc.nat({ max: 2 }).map((kind) => (v: unknown) => {
    const json = JSON.stringify(v) ?? 'null';
    // Raw text no JSON.stringify makes: a number past any float, deep nesting, a duplicate key, a trailing comma.
    const raws = [json.replace(/(\d+)/, '1e999999'), `${'['.repeat(5000)}${']'.repeat(5000)}`, json.replace(/^\{/, '{"reason":"dup",')];
    return { value: v, raw: raws[kind] };
  }),
);

/** Bytes that are not valid UTF-8 (an overlong "/" and NUL, a lone continuation byte, a CESU-8 surrogate) inside a JSON string. */
export function invalidUtf8Body(json: string): Buffer {
  const bad = [Buffer.from([0xc0, 0xaf]), Buffer.from([0xc0, 0x80]), Buffer.from([0x80]), Buffer.from([0xed, 0xa0, 0x80])];
  const at = json.indexOf('":"');
  if (at < 0) return Buffer.concat([Buffer.from('{"x":"'), bad[0]!, Buffer.from('"}')]);
  const pick = bad[json.length % bad.length]!;
  return Buffer.concat([Buffer.from(json.slice(0, at + 3)), pick, Buffer.from(json.slice(at + 3))]);
}

export type { Json };
