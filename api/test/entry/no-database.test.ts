// The server's entry point, run as a deployment runs it: without DATABASE_URL it
// must refuse to start (exit code 2) and say which variable is missing and how to
// get a demo database, instead of serving from a database that vanishes on restart.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ENTRY = join(import.meta.dirname, '..', '..', 'src', 'server.ts');

function runEntry(env: NodeJS.ProcessEnv) {
  const { DATABASE_URL: _ignored, ...rest } = process.env;
  return spawnSync(process.execPath, ['--import', 'tsx', ENTRY], {
    env: { ...rest, ISSUER: 'https://idp.example.com', CIMS_API_PORT: '0', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('node api/src/server.ts', () => {
  it('exits with code 2 without DATABASE_URL, naming the variable and npm run stack', () => {
    const run = runEntry({});
    expect(run.error).toBeUndefined();
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/DATABASE_URL is required/);
    expect(run.stderr).toMatch(/npm run stack/);
    expect(run.stdout).not.toMatch(/listening/i);
  });

  it('exits with code 2 on an empty DATABASE_URL too', () => {
    const run = runEntry({ DATABASE_URL: '' });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/DATABASE_URL/);
  });
});
