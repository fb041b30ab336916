// The real API in-process for the desktop side's integration tests: startApi over
// the demo stack's embedded PGlite (in memory; the same migrations and the same
// cims_api role as production), trusting the given issuer.
import { startApi, type RunningApi, type StartApiOptions } from '../api/src/server';
import { openPgliteStore } from '../devstack/src/pglite';
import { createTestAudit } from './audit';

export interface TestApi {
  url: string;
  /** Stops the API and closes its database. */
  close(): Promise<void>;
}

/** `dpop`: IT's requireDpop and nonces at the API (api/src/dpop.ts); default: bound tokens checked, bearer tokens taken. */
export async function startTestApi(issuer: string, opts: { dpop?: StartApiOptions['dpop'] } = {}): Promise<TestApi> {
  const store = await openPgliteStore({ sealIntervalMs: 0 });
  const audit = createTestAudit();
  let api: RunningApi;
  try {
    api = await startApi({ store, ownsStore: true, audit: audit.config, issuer, port: 0, logger: false, ...(opts.dpop ? { dpop: opts.dpop } : {}) });
  } catch (err) {
    await store.close();
    audit.cleanup();
    throw err;
  }
  return {
    url: api.url,
    close: async () => {
      await api.close();
      audit.cleanup();
    },
  };
}
