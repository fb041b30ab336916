// The local OpenID provider of the demo stack, in-process, in a throw-away data
// folder, with the accounts a test brings (their passwords generated per run).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startIdentityProvider, type IdpAccount } from '../devstack/src/idp/provider';

export interface TestIdp {
  issuer: string;
  dataDir: string;
  close(): Promise<void>;
}

export async function startTestIdp(accounts: readonly IdpAccount[], opts: { accessTokenTtlSeconds?: number } = {}): Promise<TestIdp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cims-idp-'));
  const idp = await startIdentityProvider({ port: 0, dataDir, accounts, ...opts });
  return {
    issuer: idp.issuer,
    dataDir,
    close: async () => {
      await idp.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
