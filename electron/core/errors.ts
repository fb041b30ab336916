// Typed failures inside the core. Whatever goes wrong, the renderer receives an
// IpcError (a code and words a CRM understands), never a stack trace.
import type { IpcError, IpcErrorCode } from '../../shared/ipc';

export class IpcFailure extends Error {
  override name = 'IpcFailure';
  constructor(readonly error: IpcError) {
    super(error.message);
  }
}

export const fail = (code: IpcErrorCode, message: string, extra: Omit<IpcError, 'code' | 'message'> = {}): IpcFailure =>
  new IpcFailure({ code, message, ...extra });

export const MESSAGES = {
  unauthenticated: 'You are signed out. Sign in to continue.',
  locked: 'The console is locked. Sign in again to unlock it.',
  unavailable: 'The CIMS service cannot be reached. Check your connection and try again.',
  internal: 'Something went wrong. Try again; if it keeps happening, export the logs for the helpdesk.',
  badResponse: 'The CIMS service sent a response the console does not understand.',
} as const;
