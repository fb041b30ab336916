// Diagnostics: a rotating log of what the main process did (sign-in steps, API
// statuses, timings) for the helpdesk. Every value passes through `redact`, so a
// token, an authorization code or an email address never reaches the disk even
// if a caller passes one by mistake.
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock, LogFields, LogSink } from './deps';

const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
const BEARER = /\bBearer\s+\S+/gi;
const SECRET_PARAMS = /\b(code|state|nonce|code_verifier|refresh_token|access_token|id_token|token|id_token_hint)=[^&\s"]+/gi;
/** Long opaque strings (opaque tokens, codes) are never useful in a diagnostics log. */
const OPAQUE = /\b[A-Za-z0-9_-]{32,}\b/g;
const SENSITIVE_KEY = /token|code|secret|password|email|authorization|cookie|verifier|nonce|state/i;

export function redact(value: string): string {
  return value
    .replace(JWT, '[jwt]')
    .replace(BEARER, 'Bearer [redacted]')
    .replace(SECRET_PARAMS, (_m, key: string) => `${key}=[redacted]`)
    .replace(EMAIL, '[email]')
    .replace(OPAQUE, '[opaque]')
    .slice(0, 500);
}

export function redactFields(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    if (SENSITIVE_KEY.test(key)) out[key] = '[redacted]';
    else out[key] = typeof value === 'string' ? redact(value) : value;
  }
  return out;
}

export interface RotatingLogOptions {
  dir: string;
  /** File name stem: `<name>.log`, `<name>.1.log`, ... */
  name?: string;
  maxBytes?: number;
  files?: number;
  clock?: Clock;
  /** Also echo lines (development). */
  echo?: (line: string) => void;
}

export interface RotatingLog extends LogSink {
  /** The files, newest first. */
  files(): string[];
  /** Copies the logs into one file for the helpdesk. */
  exportTo(path: string): void;
}

export function createRotatingLog(options: RotatingLogOptions): RotatingLog {
  const name = options.name ?? 'cims-console';
  const maxBytes = options.maxBytes ?? 1_000_000;
  const keep = Math.max(options.files ?? 3, 1);
  const clock = options.clock ?? { now: () => Date.now() };
  mkdirSync(options.dir, { recursive: true });
  const fileAt = (i: number) => join(options.dir, i === 0 ? `${name}.log` : `${name}.${i}.log`);

  const rotate = () => {
    rmSync(fileAt(keep - 1), { force: true });
    for (let i = keep - 2; i >= 0; i--) if (existsSync(fileAt(i))) renameSync(fileAt(i), fileAt(i + 1));
  };

  return {
    write(level, event, fields) {
      const line = JSON.stringify({ t: new Date(clock.now()).toISOString(), level, event: redact(event), ...redactFields(fields) }) + '\n';
      try {
        if (existsSync(fileAt(0)) && statSync(fileAt(0)).size + line.length > maxBytes) rotate();
        appendFileSync(fileAt(0), line, { mode: 0o600 });
      } catch {
        // Diagnostics must never take the console down.
      }
      options.echo?.(line.trimEnd());
    },
    files() {
      return Array.from({ length: keep }, (_, i) => fileAt(i)).filter((f) => existsSync(f));
    },
    exportTo(path) {
      // Read everything first and write once: a failure leaves no half-written export behind.
      const content = Buffer.concat(this.files().reverse().map((file) => readFileSync(file)));
      writeFileSync(path, content, { mode: 0o600 });
    },
  };
}

const EXPORT_REASONS: Record<string, string> = {
  EACCES: 'there is no permission to write there',
  EPERM: 'there is no permission to write there',
  ENOENT: 'the folder does not exist',
  ENOTDIR: 'the folder does not exist',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EROFS: 'that location is read-only',
  EISDIR: 'a folder of that name is in the way',
};

/** The node error code of a failed file operation ('unknown' when there is none): safe to log, it holds no path. */
export function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) ? code : 'unknown';
}

/** What the person exporting the logs is told when the file cannot be written. */
export function exportFailureMessage(error: unknown): string {
  const reason = EXPORT_REASONS[errorCode(error)] ?? 'the file could not be written';
  return `The diagnostic logs could not be saved: ${reason}. Choose another folder and try again.`;
}

/** A sink that drops everything (tests that do not look at the log). */
export const nullLog: LogSink = { write() {} };
