import { describe, expect, it } from 'vitest';
import type { SecretStore } from './deps';
import { CHUNK_CHARS, ChunkedSecret, KeychainUnreadableError } from './secret-store';

/** An in-memory keychain: the OS edge, for the chunking logic only (the real keychain is in electron/test). */
function memoryStore(): SecretStore & { entries: Map<string, string> } {
  const entries = new Map<string, string>();
  return {
    entries,
    get: async (a) => entries.get(a) ?? null,
    set: async (a, v) => void entries.set(a, v),
    delete: async (a) => entries.delete(a),
  };
}

describe('ChunkedSecret', () => {
  it('stores a refresh token larger than the Windows credential limit in chunks under it', async () => {
    const store = memoryStore();
    const vault = new ChunkedSecret(store, 'rt');
    const token = 'x'.repeat(6000) + 'é';
    await vault.write(token);
    expect(await vault.read()).toBe(token);
    const chunks = [...store.entries].filter(([k]) => k.startsWith('rt.'));
    expect(chunks.length).toBe(Math.ceil(token.length / CHUNK_CHARS));
    for (const [, value] of chunks) expect(Buffer.byteLength(value, 'utf16le')).toBeLessThan(2560);
  });

  it('shrinks cleanly when a rotated token is shorter, and clear removes everything', async () => {
    const store = memoryStore();
    const vault = new ChunkedSecret(store, 'rt');
    await vault.write('a'.repeat(3500));
    await vault.write('short');
    expect(await vault.read()).toBe('short');
    expect([...store.entries.keys()].sort()).toEqual(['rt', 'rt.0']);
    await vault.clear();
    expect(store.entries.size).toBe(0);
    expect(await vault.read()).toBeNull();
  });

  it('treats a damaged or mixed entry as unreadable, never as a token', async () => {
    const store = memoryStore();
    const vault = new ChunkedSecret(store, 'rt');
    await vault.write('b'.repeat(2500));
    store.entries.set('rt.1', 'tampered');
    await expect(vault.read()).rejects.toBeInstanceOf(KeychainUnreadableError);
    store.entries.set('rt', 'not json');
    await expect(vault.read()).rejects.toBeInstanceOf(KeychainUnreadableError);
    await vault.clear();
    expect(store.entries.size).toBe(0);
  });

  it('turns a keychain that throws into KeychainUnreadableError', async () => {
    const locked: SecretStore = {
      get: async () => {
        throw new Error('Cannot unlock keyring');
      },
      set: async () => {},
      delete: async () => false,
    };
    await expect(new ChunkedSecret(locked, 'rt').read()).rejects.toBeInstanceOf(KeychainUnreadableError);
  });
});
