// `npm run db:migrate`: applies the pending migrations to DATABASE_URL and
// re-creates the functions (see migrate.ts). DATABASE_URL must be the
// migrator's connection (owner or superuser), not the API's cims_api login.
import { checkDatabaseUrl } from './connection';
import { migrate } from './migrate';

const url = process.env.DATABASE_URL;
if (!url) {
  console.error('DATABASE_URL is not set: give the migrator connection, e.g. postgres://postgres@127.0.0.1:5432/cims');
  process.exit(2);
}
try {
  checkDatabaseUrl('DATABASE_URL', url);
} catch (err) {
  console.error((err as Error).message);
  process.exit(2);
}
try {
  const applied = await migrate(url);
  console.log(applied.length ? `migrations applied: ${applied.join(', ')}` : 'no migration pending');
  console.log('functions and grants re-created');
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
}
