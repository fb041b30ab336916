// The ready line is the stack's output contract: tools read it instead of
// guessing ports, so a line that drifts from the schema must fail loudly.
import { describe, expect, it } from 'vitest';
import { parseReadyLine, READY_PREFIX, type ReadyInfo } from '../../src/stack/ready';

const info: ReadyInfo = {
  issuer: 'http://127.0.0.1:4800',
  api: 'http://127.0.0.1:4801',
  clientId: 'cims-console',
  audience: 'urn:cims:api',
  scope: 'openid profile offline_access api',
  demoAccounts: [{ username: 'alice', password: 'pw', roles: ['crm'] }],
  dataDir: '/tmp/stack',
  database: 'pglite',
  apiLog: '/tmp/stack/api.log',
};

describe('parseReadyLine', () => {
  it('reads the line the stack prints and ignores every other line', () => {
    expect(parseReadyLine(`${READY_PREFIX}${JSON.stringify(info)}`)).toEqual(info);
    expect(parseReadyLine('database: embedded (PGlite) in /tmp/stack/pgdata')).toBeUndefined();
    expect(parseReadyLine(`log: ${READY_PREFIX}${JSON.stringify(info)}`)).toBeUndefined();
  });

  it('refuses a ready line that has drifted from the schema', () => {
    const { api: _api, ...missing } = info;
    expect(() => parseReadyLine(`${READY_PREFIX}${JSON.stringify(missing)}`)).toThrow();
    expect(() => parseReadyLine(`${READY_PREFIX}${JSON.stringify({ ...info, extra: 1 })}`)).toThrow();
    expect(() => parseReadyLine(`${READY_PREFIX}${JSON.stringify({ ...info, database: 'sqlite' })}`)).toThrow();
  });
});
