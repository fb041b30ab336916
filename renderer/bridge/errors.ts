import type { IpcError, IpcErrorCode } from '../../shared/ipc';
import { ERROR_MESSAGES, SAVE_LATER_CODES, SITUATION_CODES } from '../../shared/messages';

export type FieldError = { path: string; message: string };

/** An IpcError as the renderer throws it: React Query and forms branch on `code`. */
export class BridgeError extends Error {
  override readonly name = 'BridgeError';
  readonly code: IpcErrorCode;
  readonly status: number | undefined;
  readonly requestId: string | undefined;
  readonly fieldErrors: FieldError[];

  constructor(error: IpcError) {
    super(error.message);
    this.code = error.code;
    this.status = error.status;
    this.requestId = error.requestId;
    this.fieldErrors = error.fieldErrors ?? [];
  }
}

export const isBridgeError = (e: unknown): e is BridgeError => e instanceof BridgeError;

/** Codes after which the same request may succeed later without the user changing anything. */
export const TRANSIENT_CODES: readonly IpcErrorCode[] = ['unavailable', 'busy', 'rate_limited', 'internal'];

/** Codes after which a draft must be kept and saved later (shared/messages.ts, which the fault suite checks too). */
export { SAVE_LATER_CODES };

export const errorCode = (e: unknown): IpcErrorCode => (isBridgeError(e) ? e.code : 'internal');

/** A sentence for the user (shared/messages.ts); never a stack trace. */
export function describeError(e: unknown): string {
  if (!isBridgeError(e)) return 'Something went wrong in the console. Try again.';
  return SITUATION_CODES.has(e.code) ? ERROR_MESSAGES[e.code] : e.message || ERROR_MESSAGES[e.code];
}
