// The audit signing key and the trusted public keys, from files given to the API.
// The private key never enters the database: whoever administers the database
// cannot sign a checkpoint, so cannot forge one over a rewritten trail.
import { generateKeyPairSync, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { trustedKey, type TrustedKey } from './hash';

/** Reads an Ed25519 private key (PKCS#8 PEM); refuses a file anyone but its owner may read or write (mode 0600). */
export function readSigningKey(path: string, name = 'CIMS_AUDIT_SIGNING_KEY'): KeyObject {
  let mode: number;
  try {
    mode = statSync(path).mode & 0o777;
  } catch (err) {
    throw new Error(`${name}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new Error(`${name}: ${path} has mode 0${mode.toString(8)}; the audit signing key must be readable by its owner only (chmod 600)`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`${name}: ${path} is not a PKCS#8 PEM private key`, { cause: err });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${name}: ${path} is a ${key.asymmetricKeyType ?? 'unknown'} key; audit checkpoints are signed with Ed25519`);
  return key;
}

const PEM_PUBLIC_KEY = /-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g;

/** Reads the public keys in a file of PEM blocks (SPKI), e.g. the keys that signed older checkpoints. */
export function readPublicKeys(path: string, name = 'CIMS_AUDIT_PUBLIC_KEYS'): TrustedKey[] {
  const text = readFileSync(path, 'utf8');
  const blocks = text.match(PEM_PUBLIC_KEY) ?? [];
  if (blocks.length === 0) throw new Error(`${name}: ${path} holds no PEM public key`);
  return blocks.map((pem) => {
    try {
      return trustedKey(pem);
    } catch (err) {
      throw new Error(`${name}: ${path} holds a key that is not an Ed25519 public key`, { cause: err });
    }
  });
}

/** A new Ed25519 key pair (demo stack, tests). */
export function generateSigningKey(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('ed25519');
}

/** Writes a private key as PKCS#8 PEM, mode 0600, never over an existing file. */
export function writeSigningKey(path: string, key: KeyObject): void {
  writeFileSync(path, key.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600, flag: 'wx' });
}

/** A public key as SPKI PEM (for CIMS_AUDIT_PUBLIC_KEYS and consoles' policy). */
export const publicKeyPem = (key: KeyObject): string => key.export({ format: 'pem', type: 'spki' }).toString();
