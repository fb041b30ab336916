// Storage for the provider's state (sessions, interactions, grants, codes,
// refresh tokens), one store per provider instance. With a file it survives a
// restart of the stack, so a console that keeps its refresh token in the
// keychain stays signed in; the file sits in the data folder with mode 0600,
// like the keys. Without a file (tests) it lives in memory only.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Adapter, AdapterPayload } from 'oidc-provider';

interface Entry {
  payload: AdapterPayload;
  /** Epoch ms; null: no expiry. */
  expiresAt: number | null;
}

const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest', 'PreAuthorizedCode']);

export interface StateStore {
  adapterFor(model: string): Adapter;
  /** Writes pending changes now (on close). */
  flush(): void;
}

export function createStateStore(file?: string, onError: (message: string) => void = () => {}): StateStore {
  const entries = new Map<string, Entry>();
  if (file && existsSync(file)) {
    try {
      const saved = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Entry>;
      for (const [key, entry] of Object.entries(saved)) entries.set(key, entry);
    } catch {
      // Losing sign-in sessions is harmless (users sign in again); losing keys is not, and they live elsewhere.
      onError(`${file} could not be read; signed-in sessions start afresh`);
    }
  }

  const live = (key: string): Entry | undefined => {
    const entry = entries.get(key);
    if (entry && entry.expiresAt !== null && entry.expiresAt <= Date.now()) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  };

  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (!file) return;
    const now = Date.now();
    const out: Record<string, Entry> = {};
    for (const [key, entry] of entries) if (entry.expiresAt === null || entry.expiresAt > now) out[key] = entry;
    try {
      writeFileSync(`${file}.tmp`, JSON.stringify(out), { mode: 0o600 });
      renameSync(`${file}.tmp`, file);
    } catch (err) {
      onError(`could not save the provider's sessions: ${(err as Error).message}`);
    }
  };
  const changed = () => {
    if (file && !timer) timer = setTimeout(flush, 200).unref();
  };

  return {
    flush,
    adapterFor(model: string): Adapter {
      const key = (id: string) => `${model}:${id}`;
      return {
        async upsert(id, payload, expiresIn) {
          entries.set(key(id), { payload, expiresAt: typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : null });
          changed();
        },
        async find(id) {
          return live(key(id))?.payload;
        },
        async findByUid(uid) {
          for (const [k, entry] of entries) {
            if (k.startsWith(`${model}:`) && entry.payload.uid === uid && live(k)) return entry.payload;
          }
          return undefined;
        },
        async findByUserCode(userCode) {
          for (const [k, entry] of entries) {
            if (k.startsWith(`${model}:`) && entry.payload.userCode === userCode && live(k)) return entry.payload;
          }
          return undefined;
        },
        async consume(id) {
          const entry = live(key(id));
          if (entry) {
            entry.payload.consumed = Math.floor(Date.now() / 1000);
            changed();
          }
        },
        async destroy(id) {
          entries.delete(key(id));
          changed();
        },
        async revokeByGrantId(grantId) {
          if (!GRANTABLE.has(model)) return;
          for (const [k, entry] of entries) {
            if (k.startsWith(`${model}:`) && entry.payload.grantId === grantId) entries.delete(k);
          }
          changed();
        },
      };
    },
  };
}
