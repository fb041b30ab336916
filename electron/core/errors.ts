// Typed failures inside the core. Whatever goes wrong, the renderer receives an
// IpcError (a code and words a CRM understands), never a stack trace.
import type { IpcError, IpcErrorCode } from '../../shared/ipc';
import { BAD_RESPONSE_MESSAGE, ERROR_MESSAGES } from '../../shared/messages';

export class IpcFailure extends Error {
  override name = 'IpcFailure';
  constructor(readonly error: IpcError) {
    super(error.message);
  }
}

export const fail = (code: IpcErrorCode, message: string, extra: Omit<IpcError, 'code' | 'message'> = {}): IpcFailure =>
  new IpcFailure({ code, message, ...extra });

/** The sentences of shared/messages.ts, and the one for a response the console cannot read. */
export const MESSAGES = { ...ERROR_MESSAGES, badResponse: BAD_RESPONSE_MESSAGE } as const;
