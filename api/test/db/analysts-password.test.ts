// An analyst's login against a server that asks for passwords: a private
// PostgreSQL cluster (the fault suite's, faults/support/cluster.ts: initdb into a
// temporary folder, never the shared server) whose pg_hba.conf asks every role
// but the superuser for scram-sha-256 over TCP, as the analysts' network does in
// production. The shared server here trusts 127.0.0.1, so only this proves that
// the printed password is the one that works, another does not, and a revoked
// login is refused.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, startPrivateCluster, type PrivateCluster } from '../../../faults/support/cluster';
import { grantAnalyst, revokeAnalyst, roleFor } from '../../src/analysts/analysts';
import { migrate } from '../../src/db/migrate';

let cluster: PrivateCluster;
let owner: pg.Client;

beforeAll(async () => {
  cluster = await startPrivateCluster();
  const hba = join(cluster.dir, 'data', 'pg_hba.conf');
  // Overwritten in place (the file keeps its owner): the superuser on trust, everyone else with a password.
  writeFileSync(hba, ['local all all trust', 'host all postgres 127.0.0.1/32 trust', 'host all all 127.0.0.1/32 scram-sha-256', ''].join('\n'));
  await createDatabase(cluster, 'cims');
  owner = new pg.Client({ connectionString: cluster.url('cims') });
  await owner.connect();
  await owner.query('SELECT pg_reload_conf()');
  expect(readFileSync(hba, 'utf8')).toContain('scram-sha-256');
  await migrate(cluster.url('cims'));
}, 120_000);
afterAll(async () => {
  await owner?.end().catch(() => undefined);
  cluster?.destroy();
});

const connectAs = async (role: string, password: string) => {
  const c = new pg.Client({ host: '127.0.0.1', port: cluster.port, database: 'cims', user: role, password });
  await c.connect();
  return c;
};

describe('an analyst login with password authentication', () => {
  it('connects with the printed password and reads the views; another password and a revoked login are refused', async () => {
    const rules = (await owner.query<{ type: string; user_name: string[]; auth_method: string }>('SELECT type, user_name, auth_method FROM pg_hba_file_rules ORDER BY line_number')).rows;
    expect(rules.at(-1)).toMatchObject({ type: 'host', user_name: ['all'], auth_method: 'scram-sha-256' });

    const { role, password } = await grantAnalyst(owner, 'pat');
    expect(role).toBe(roleFor('pat'));
    const c = await connectAs(role, password);
    try {
      expect((await c.query('SELECT current_user AS u')).rows[0].u).toBe(role);
      expect((await c.query('SELECT count(*)::int AS n FROM analytics.customers')).rows[0].n).toBe(0);
      await expect(c.query('SELECT * FROM core.customers')).rejects.toMatchObject({ code: '42501' });
    } finally {
      await c.end();
    }
    await expect(connectAs(role, `${password}x`)).rejects.toMatchObject({ code: '28P01' });

    await revokeAnalyst(owner, 'pat');
    await expect(connectAs(role, password)).rejects.toMatchObject({ code: '28P01' });
  });
});
