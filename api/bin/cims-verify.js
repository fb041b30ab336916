#!/usr/bin/env node
// `npx cims-verify FILE`: runs the offline verifier of evidence bundles
// (src/audit/verify-cli.ts) through tsx, which the repository installs.
import { register } from 'tsx/esm/api';

register();
const { runVerify } = await import('../src/audit/verify-cli.ts');
try {
  const { code, text } = await runVerify(process.argv.slice(2));
  (code === 2 ? process.stderr : process.stdout).write(text);
  process.exitCode = code;
} catch (err) {
  process.stderr.write(`cims-verify: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 2;
}
