// `npm run models`: trains the churn and upsell models again and publishes the
// scores. Reads features as cims_model (CIMS_MODEL_DATABASE_URL: its login, or
// a superuser's connection, which takes that role) and publishes through
// PUT /v1/predictions with the model runner's client-credentials token.
//
//   CIMS_MODEL_DATABASE_URL  postgres://cims_model@127.0.0.1:5432/cims
//   CIMS_API_BASE_URL        the API (default http://127.0.0.1:4801, the demo stack's)
//   CIMS_ISSUER              the identity provider (default http://127.0.0.1:4800)
//   CIMS_MODEL_CLIENT_ID     default cims-model-runner
//   CIMS_MODEL_CLIENT_SECRET the client's secret; for the demo stack, --stack DIR reads it
//                            from DIR/idp-secrets.json instead
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { checkDatabaseUrl } from '../api/src/db/connection';
import { clientCredentials } from '../devstack/src/seed/api-client';
import { publish, trainFrom } from './run';

const { values } = parseArgs({ options: { stack: { type: 'string' }, 'dry-run': { type: 'boolean' } } });
const env = process.env;
const fail = (message: string): never => {
  console.error(message);
  process.exit(2);
};

const databaseUrl = env.CIMS_MODEL_DATABASE_URL ?? fail('CIMS_MODEL_DATABASE_URL is not set: the model job\'s login (cims_model) to the CIMS database');
checkDatabaseUrl('CIMS_MODEL_DATABASE_URL', databaseUrl);
const clientSecret = values.stack
  ? (JSON.parse(readFileSync(join(values.stack, 'idp-secrets.json'), 'utf8')) as { modelRunnerSecret: string }).modelRunnerSecret
  : env.CIMS_MODEL_CLIENT_SECRET;
if (!clientSecret && !values['dry-run']) fail('CIMS_MODEL_CLIENT_SECRET is not set (or give --stack DIR for the demo stack\'s data folder, or --dry-run)');

const db = new pg.Client({ connectionString: databaseUrl });
await db.connect();
try {
  const run = await trainFrom(db, (line) => console.log(line));
  if (values['dry-run']) {
    console.log(`dry run: ${run.predictions.length} scores not published`);
  } else {
    const issuer = env.CIMS_ISSUER ?? 'http://127.0.0.1:4800';
    const token = clientCredentials(issuer, { clientId: env.CIMS_MODEL_CLIENT_ID ?? 'cims-model-runner', clientSecret: clientSecret! }, 'predictions:write');
    const result = await publish(env.CIMS_API_BASE_URL ?? 'http://127.0.0.1:4801', token, run.predictions);
    console.log(`published ${result.accepted} scores through PUT /v1/predictions (${result.duplicates} already known)`);
  }
} catch (err) {
  console.error(`model job failed: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  await db.end();
}
