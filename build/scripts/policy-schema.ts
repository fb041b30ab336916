// `npm run policy:schema`: writes build/policy.schema.json from the zod `Policy` in shared/config.ts,
// and from it the ADMX/ADML templates and the macOS profile example (policy-templates.ts).
// The file is checked in (administrators validate their policy files against it); a unit test
// fails when it drifts from the zod schema.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import { Policy } from '../../shared/config';
// A cycle (the templates read policyJsonSchema), harmless: each side uses the other only inside functions.
import { TEMPLATE_FILES, templateTexts } from './policy-templates';

export const POLICY_SCHEMA_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', 'policy.schema.json');

/** The schema of the file IT writes: `io: 'input'`, so fields with defaults are optional. */
export function policyJsonSchema(): Record<string, unknown> {
  const { $schema, ...schema } = z.toJSONSchema(Policy, { io: 'input' });
  return {
    $schema,
    title: 'CIMS Console managed policy',
    description:
      'The policy file IT places at the per-OS system path (see docs/deploying.md). Generated from Policy in shared/config.ts by `npm run policy:schema`; do not edit by hand.',
    ...schema,
  };
}

export const policySchemaText = (): string => `${JSON.stringify(policyJsonSchema(), null, 2)}\n`;

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(POLICY_SCHEMA_PATH, policySchemaText());
  console.log(`Wrote ${POLICY_SCHEMA_PATH}`);
  // The ADMX/ADML templates and the configuration profile come from the same schema.
  const texts = templateTexts();
  for (const [kind, path] of Object.entries(TEMPLATE_FILES)) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, texts[kind as keyof typeof TEMPLATE_FILES]);
    console.log(`Wrote ${path}`);
  }
}
