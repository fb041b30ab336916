import type { IpcError, IpcErrorCode } from '../../shared/ipc';

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
export const TRANSIENT_CODES: readonly IpcErrorCode[] = ['unavailable', 'rate_limited', 'internal'];

/** Codes after which a draft must be kept and saved later (session or network, not the data). */
export const SAVE_LATER_CODES: readonly IpcErrorCode[] = ['unavailable', 'unauthenticated', 'locked', 'rate_limited'];

export const errorCode = (e: unknown): IpcErrorCode => (isBridgeError(e) ? e.code : 'internal');

/** A sentence for the user; never a stack trace. */
export function describeError(e: unknown): string {
  if (!isBridgeError(e)) return 'Something went wrong in the console. Try again.';
  switch (e.code) {
    case 'unavailable':
      return 'The CIMS service cannot be reached right now. Check your connection and try again.';
    case 'unauthenticated':
      return 'Your session has ended. Sign in again to continue.';
    case 'locked':
      return 'The console is locked. Unlock it to continue.';
    case 'forbidden':
      return e.message || 'Your role does not allow this.';
    case 'rate_limited':
      return 'Too many requests in a short time. Wait a moment and try again.';
    default:
      return e.message || 'Something went wrong. Try again.';
  }
}
