// The checked-in JSON Schema and example policy stay true to the zod Policy in shared/config.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Policy } from '../shared/config';
import { POLICY_SCHEMA_PATH, policyJsonSchema, policySchemaText } from './scripts/policy-schema';

const root = join(import.meta.dirname, '..');
const example = JSON.parse(readFileSync(join(root, 'build/policy.example.json'), 'utf8')) as unknown;

describe('policy JSON Schema', () => {
  it('is checked in exactly as `npm run policy:schema` generates it from the zod Policy', () => {
    expect(readFileSync(POLICY_SCHEMA_PATH, 'utf8'), 'build/policy.schema.json drifted: run `npm run policy:schema`').toBe(policySchemaText());
  });

  it('describes the same fields as Policy, requiring only those without a default', () => {
    const schema = policyJsonSchema() as { properties: Record<string, unknown>; required: string[]; additionalProperties: boolean };
    const keys = Object.keys(Policy.shape);
    expect(Object.keys(schema.properties).sort()).toEqual([...keys].sort());
    const withoutDefault = keys.filter((k) => Policy.shape[k as keyof typeof Policy.shape].safeParse(undefined).success === false);
    expect([...schema.required].sort()).toEqual(withoutDefault.sort());
    expect(schema.additionalProperties).toBe(false);
  });
});

describe('example policy', () => {
  it('validates against Policy', () => {
    const parsed = Policy.safeParse(example);
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
  });

  it('is the example printed in docs/deploying.md', () => {
    const guide = readFileSync(join(root, 'docs/deploying.md'), 'utf8');
    const block = /<!-- policy-example -->\s*```json\n([\s\S]*?)```/.exec(guide);
    expect(block, 'docs/deploying.md has a ```json block after <!-- policy-example -->').not.toBeNull();
    expect(JSON.parse(block?.[1] ?? 'null')).toEqual(example);
  });

  it('is refused when a URL is not HTTPS, so the guide\'s promise holds', () => {
    const parsed = Policy.safeParse({ ...(example as object), apiBaseUrl: 'http://cims-api.example.com' });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(['apiBaseUrl']);
  });
});
