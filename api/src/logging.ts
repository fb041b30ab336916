// Structured logs (pino, through Fastify) that never carry a token, an email
// address or anything that looks like a card number. Requests are logged by
// method and path only: query strings hold search terms (emails, phones).
import { LogController, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';

/** Where log lines go; anything with `write(line)` (pino's destination stream). */
export interface LogSink {
  write(line: string): void;
}

export interface LogOptions {
  level?: string;
  /** Defaults to stdout. */
  sink?: LogSink;
}

const CENSOR = '[redacted]';

/** Keys whose values never reach a log line, at any depth of a logged object (compared in lower case, without - and _). */
export const SENSITIVE_KEYS: ReadonlySet<string> = new Set([
  'authorization',
  'cookie',
  'setcookie',
  'token',
  'accesstoken',
  'refreshtoken',
  'idtoken',
  'password',
  'secret',
  'clientsecret',
  'email',
  'contactemail',
  'billingemail',
  'phone',
  'contactphone',
  'cardnumber',
  'pan',
  'cvc',
  'cvv',
]);

const MAX_DEPTH = 6;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * A copy of a logged value in which every sensitive key's value is replaced, at any depth (deeper
 * than MAX_DEPTH, whole values are). It walks plain objects and arrays: requests, replies and
 * errors are reduced to safe fields by the serializers below. (pino's own path-based redaction
 * did the same for a fixed list of paths at about 11 µs a line, most of the cost of logging.)
 */
export function redact(value: unknown, depth = 0): unknown {
  if (!Array.isArray(value) && !isPlainObject(value)) return value;
  if (depth >= MAX_DEPTH) return CENSOR;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const copy: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    copy[key] = SENSITIVE_KEYS.has(key.toLowerCase().replace(/[-_]/g, '')) ? CENSOR : redact(v, depth + 1);
  }
  return copy;
}

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
const JWT = /\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;
const BEARER = /\bBearer\s+[A-Za-z0-9\-_.~+/]+=*/gi;
// 13 to 19 digits, optionally grouped by spaces or dashes: the shape of a card number.
const CARD = /\b(?:\d[ -]?){12,18}\d\b/g;

/** Removes tokens, emails and card-like digit runs from free text (error messages, stacks). */
export function scrub(text: string): string {
  return text
    .replace(BEARER, 'Bearer [token]')
    .replace(JWT, '[token]')
    .replace(EMAIL, '[email]')
    .replace(CARD, '[card]');
}

interface LoggedRequest {
  id?: unknown;
  method?: string;
  url?: string;
  ip?: string;
}

interface LoggedError {
  name?: string;
  message?: string;
  stack?: string;
  code?: unknown;
  statusCode?: unknown;
}

export function loggerOptions(options: LogOptions = {}): NonNullable<FastifyServerOptions['logger']> {
  return {
    level: options.level ?? 'info',
    formatters: { log: (object: Record<string, unknown>) => redact(object) as Record<string, unknown> },
    ...(options.sink ? { stream: options.sink } : {}),
    serializers: {
      req: (req: LoggedRequest) => ({
        id: req.id,
        method: req.method,
        path: scrub((req.url ?? '').split('?')[0] ?? ''),
        ip: req.ip,
      }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
      err: (err: LoggedError) => ({
        type: err.name ?? 'Error',
        message: scrub(String(err.message ?? '')),
        stack: scrub(err.stack ?? ''),
        code: err.code,
        statusCode: err.statusCode,
      }),
    },
  };
}

/**
 * One line per request, written when it completes, with the request (method, path, id, address)
 * and the outcome. Fastify's default writes a second line when the request arrives; on a busy
 * API that doubles the logging for nothing a reader needs.
 */
export class OneLinePerRequest extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, req: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(req)) return;
    const line = { req, res: reply, responseTime: reply.elapsedTime };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log.info(line, 'request completed');
  }
}
