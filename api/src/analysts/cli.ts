// `npm run analysts -- grant NAME | revoke NAME | list`: data scientists'
// personal read-only logins (see analysts.ts and docs/analysts.md). An owner's
// tool, never part of the server: DATABASE_URL is the database owner's (or a
// superuser's) connection, as for `npm run db:migrate`.
import pg from 'pg';
import { checkDatabaseUrl } from '../db/connection';
import { AnalystError, CONNECTION_LIMIT, grantAnalyst, listAnalysts, revokeAnalyst } from './analysts';

const USAGE = 'usage: npm run analysts -- grant NAME | revoke NAME | list   (DATABASE_URL: the database owner\'s connection)';

async function main(argv: string[]): Promise<number> {
  const [command, name, ...rest] = argv;
  if (!command || rest.length > 0 || (command === 'list') !== (name === undefined) || !['grant', 'revoke', 'list'].includes(command)) {
    console.error(USAGE);
    return 2;
  }
  const url = process.env.DATABASE_URL;
  if (!url) {
    console.error(`DATABASE_URL is not set. ${USAGE}`);
    return 2;
  }
  checkDatabaseUrl('DATABASE_URL', url);
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    const database = (await db.query<{ d: string }>('SELECT current_database() AS d')).rows[0]!.d;
    if (command === 'grant') {
      const { role, password } = await grantAnalyst(db, name!);
      console.log(`analyst login ${role} created (read-only, de-identified views of ${database}, at most ${CONNECTION_LIMIT} connections)`);
      console.log(`password (shown once, not stored; hand it over privately): ${password}`);
      return 0;
    }
    if (command === 'revoke') {
      const role = await revokeAnalyst(db, name!);
      console.log(`analyst login ${role} revoked: its sessions were ended and it cannot connect again`);
      return 0;
    }
    const logins = await listAnalysts(db);
    if (logins.length === 0) console.log('no analyst logins');
    for (const l of logins) console.log(`${l.role}\t${l.canLogin ? 'can log in' : 'cannot log in'}\tat most ${l.connectionLimit} connections\t${l.comment ?? ''}`);
    return 0;
  } catch (err) {
    if (err instanceof AnalystError) {
      console.error(err.message);
      return 2;
    }
    const e = err as { message?: string; code?: string };
    console.error(e.code === 'CA409' || e.code === 'CA404' ? e.message : `failed: ${e.message ?? String(err)}`);
    return 1;
  } finally {
    await db.end();
  }
}

process.exitCode = await main(process.argv.slice(2));
