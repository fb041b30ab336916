// Unsaved edits, per signed-in user and per customer ("new" for a new one), in
// sessionStorage: they survive a lock, an expired session and re-sign-in, and
// go away when the app window closes. Nothing here is sent anywhere.
import { z } from 'zod';
import { CustomerFields, EventId, FieldChange } from '../../../../shared/api';

const Draft = z.object({
  key: z.string(),
  /** The version the edit started from (null for a new customer): sent as If-Match. */
  baseVersion: z.int().nullable(),
  /** The record as it was when the edit started, to show before → after and detect others' changes. */
  base: CustomerFields.nullable(),
  values: z.record(z.string(), z.string()),
  /** "Revert this change": the event the edit reverts, so the draft still saves with revertOf. */
  revert: z.object({ eventId: EventId, changes: z.array(FieldChange) }).optional(),
  savedAt: z.string(),
});
export type Draft = z.infer<typeof Draft>;

const storageKey = (owner: string) => `cims.drafts.v1.${owner}`;

function readAll(owner: string): Record<string, Draft> {
  try {
    const raw = sessionStorage.getItem(storageKey(owner));
    if (!raw) return {};
    const parsed = z.record(z.string(), Draft).safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : {};
  } catch {
    return {};
  }
}

function writeAll(owner: string, drafts: Record<string, Draft>): void {
  try {
    if (Object.keys(drafts).length === 0) sessionStorage.removeItem(storageKey(owner));
    else sessionStorage.setItem(storageKey(owner), JSON.stringify(drafts));
  } catch {
    // Storage full or unavailable: the open form still holds the values.
  }
}

export const loadDraft = (owner: string, key: string): Draft | null => readAll(owner)[key] ?? null;
export const listDrafts = (owner: string): Draft[] => Object.values(readAll(owner));

export function saveDraft(owner: string, draft: Omit<Draft, 'savedAt'>): void {
  writeAll(owner, { ...readAll(owner), [draft.key]: { ...draft, savedAt: new Date().toISOString() } });
}

export function deleteDraft(owner: string, key: string): void {
  const all = readAll(owner);
  delete all[key];
  writeAll(owner, all);
}
