// The provider's secrets, generated on first start and kept in the data folder
// (file mode 0600, never committed): the token signing key, the cookie keys and
// the model runner's client secret. A damaged file is reported, never replaced
// silently, so tokens signed before keep their meaning until the user resets.
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

export const SECRETS_FILE = 'idp-secrets.json';

const PrivateRsaJwk = z.looseObject({
  kty: z.literal('RSA'),
  kid: z.string().min(1),
  n: z.string().min(1),
  e: z.string().min(1),
  d: z.string().min(1),
  p: z.string().min(1),
  q: z.string().min(1),
  dp: z.string().min(1),
  dq: z.string().min(1),
  qi: z.string().min(1),
});

const IdpSecrets = z.strictObject({
  version: z.literal(1),
  signingKeys: z.array(PrivateRsaJwk).min(1),
  cookieKeys: z.array(z.string().min(32)).min(1),
  modelRunnerSecret: z.string().min(32),
});
export type IdpSecrets = z.infer<typeof IdpSecrets>;

/** The data folder holds something we cannot use; the message says what to do. */
export class DataDirError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataDirError';
  }
}

function generate(): IdpSecrets {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = PrivateRsaJwk.parse({ ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), use: 'sig', alg: 'RS256' });
  return {
    version: 1,
    signingKeys: [jwk],
    cookieKeys: [randomBytes(32).toString('base64url')],
    modelRunnerSecret: randomBytes(32).toString('base64url'),
  };
}

export function loadOrCreateSecrets(dataDir: string): IdpSecrets {
  const path = join(dataDir, SECRETS_FILE);
  let text: string | undefined;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new DataDirError(`Cannot read ${path} (${(err as Error).message}). Check its permissions, or start over with --reset.`);
    }
  }
  if (text !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const result = IdpSecrets.safeParse(parsed);
    if (!result.success) {
      throw new DataDirError(`${path} is damaged (not the identity provider's key file). Start over with --reset, or delete the data folder.`);
    }
    return result.data;
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const secrets = generate();
  // 'wx': never overwrite a file another process created meanwhile.
  writeFileSync(path, JSON.stringify(secrets), { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return secrets;
}
