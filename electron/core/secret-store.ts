// The OS keychain behind the small SecretStore interface, and the refresh-token
// vault on top of it. A refresh token can be longer than a Windows credential
// blob may hold (2,560 bytes), so the vault splits it into chunks and writes a
// manifest last (with a hash of the whole), so a half-written or mixed set of
// chunks is detected and treated as unreadable, never used.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { SecretStore } from './deps';

interface Keytar {
  getPassword(service: string, account: string): Promise<string | null>;
  setPassword(service: string, account: string, password: string): Promise<void>;
  deletePassword(service: string, account: string): Promise<boolean>;
}

/** The OS keychain through keytar (native; loaded on first use so pure modules never need it). */
export function keytarSecretStore(service: string, load: () => Keytar = defaultKeytar): SecretStore {
  let keytar: Keytar | null = null;
  const k = () => (keytar ??= load());
  return {
    get: (account) => k().getPassword(service, account),
    set: (account, value) => k().setPassword(service, account, value),
    delete: (account) => k().deletePassword(service, account),
  };
}

function defaultKeytar(): Keytar {
  return createRequire(import.meta.url)('keytar') as Keytar;
}

/**
 * The keychain account of the refresh token for one provider and client: both are in the name, so a
 * policy that points the console at another identity provider never reads (and never sends that
 * provider) a token the first one issued.
 */
export function refreshTokenAccount(issuer: string, clientId: string): string {
  return `refresh-token ${clientId} ${issuer}`;
}

/**
 * Where earlier versions kept the refresh token, whatever the provider. Nothing says which provider
 * issued it, so it is deleted unread rather than migrated: the user signs in once more.
 */
export const LEGACY_REFRESH_ACCOUNT = 'refresh-token';

/** Characters per chunk: at most 2,000 bytes even if the OS stores the text as UTF-16, under Windows' 2,560. */
export const CHUNK_CHARS = 1000;
const MAX_CHUNKS = 64;

export class KeychainUnreadableError extends Error {
  override name = 'KeychainUnreadableError';
}

interface Manifest {
  v: 1;
  chunks: number;
  sha256: string;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Stores one secret (the refresh token) under `<name>` (manifest) and `<name>.<i>` (chunks). */
export class ChunkedSecret {
  constructor(
    private readonly store: SecretStore,
    private readonly name: string,
  ) {}

  /** The secret, null when none is stored; throws KeychainUnreadableError when the keychain cannot be read or the entry is damaged. */
  async read(): Promise<string | null> {
    let manifestText: string | null;
    try {
      manifestText = await this.store.get(this.name);
    } catch (error) {
      throw new KeychainUnreadableError(`keychain read failed: ${(error as Error).name}`);
    }
    if (manifestText === null) return null;
    const manifest = parseManifest(manifestText);
    if (!manifest) throw new KeychainUnreadableError('keychain entry is damaged');
    const parts: string[] = [];
    for (let i = 0; i < manifest.chunks; i++) {
      let part: string | null;
      try {
        part = await this.store.get(`${this.name}.${i}`);
      } catch (error) {
        throw new KeychainUnreadableError(`keychain read failed: ${(error as Error).name}`);
      }
      if (part === null) throw new KeychainUnreadableError('keychain entry is incomplete');
      parts.push(part);
    }
    const secret = parts.join('');
    if (sha256(secret) !== manifest.sha256) throw new KeychainUnreadableError('keychain entry does not match its checksum');
    return secret;
  }

  async write(secret: string): Promise<void> {
    const chunks: string[] = [];
    for (let i = 0; i < secret.length; i += CHUNK_CHARS) chunks.push(secret.slice(i, i + CHUNK_CHARS));
    if (chunks.length > MAX_CHUNKS) throw new Error('secret too large for the keychain');
    const previous = await this.chunkCount();
    for (const [i, chunk] of chunks.entries()) await this.store.set(`${this.name}.${i}`, chunk);
    const manifest: Manifest = { v: 1, chunks: chunks.length, sha256: sha256(secret) };
    await this.store.set(this.name, JSON.stringify(manifest));
    for (let i = chunks.length; i < previous; i++) await this.store.delete(`${this.name}.${i}`).catch(() => false);
  }

  /** Removes the manifest first (so nothing half-deleted is ever read back), then every chunk it can find. */
  async clear(): Promise<void> {
    const count = await this.chunkCount();
    await this.store.delete(this.name);
    // Past the manifest's count, keep deleting until a chunk is missing (a damaged manifest says nothing).
    for (let i = 0; i < MAX_CHUNKS; i++) {
      const deleted = await this.store.delete(`${this.name}.${i}`);
      if (!deleted && i >= count) break;
    }
  }

  private async chunkCount(): Promise<number> {
    try {
      const text = await this.store.get(this.name);
      return (text && parseManifest(text)?.chunks) || 0;
    } catch {
      return 0;
    }
  }
}

function parseManifest(text: string): Manifest | null {
  try {
    const m = JSON.parse(text) as Partial<Manifest>;
    if (m.v === 1 && Number.isInteger(m.chunks) && m.chunks! >= 1 && m.chunks! <= MAX_CHUNKS && typeof m.sha256 === 'string') {
      return m as Manifest;
    }
  } catch {
    // fall through: damaged
  }
  return null;
}
