// What the user reads for each error code: one sentence per code, used by the
// main process when it has nothing more specific and by the renderer.
import type { IpcErrorCode } from './ipc';

export const ERROR_MESSAGES: Readonly<Record<IpcErrorCode, string>> = {
  unauthenticated: 'You are signed out. Sign in to continue.',
  locked: 'The console is locked. Sign in again to unlock it.',
  forbidden: 'You are not allowed to do this.',
  not_found: 'Not found. It may have been archived or removed.',
  conflict: 'Someone else changed this record after you opened it. Reload it to see their change, then apply yours again.',
  validation: 'Some fields need attention.',
  rate_limited: 'Too many requests in a short time. Wait a moment and try again.',
  unavailable: 'The CIMS service cannot be reached right now. Check your connection and try again.',
  busy: 'The CIMS service is busy right now and asked the console to try again shortly. Wait a moment and try again.',
  cancelled: 'Cancelled.',
  internal: 'Something went wrong. Try again; if it keeps happening, export the logs for the helpdesk.',
};

/** Codes whose sentence describes the situation itself, so it wins over whatever detail came with the error. */
export const SITUATION_CODES: ReadonlySet<IpcErrorCode> = new Set(['unauthenticated', 'locked', 'rate_limited', 'unavailable', 'busy']);

/** Codes after which a draft must be kept and saved later (session or network, not the data). */
export const SAVE_LATER_CODES: readonly IpcErrorCode[] = ['unavailable', 'busy', 'unauthenticated', 'locked', 'rate_limited'];

/** A response the console cannot read: not an error code of its own (it is `internal`), but said differently. */
export const BAD_RESPONSE_MESSAGE = 'The CIMS service sent a response the console does not understand.';
