// The API client: bearer token from the session, If-Match from the record's
// version, one retry after a refresh on 401, responses validated with the
// shared schemas, problem+json mapped to IpcError codes. Tokens never reach
// the log: only method, path template, status and timing do.
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { z } from 'zod';
import { Problem } from '../../shared/api';
import type { IpcErrorCode } from '../../shared/ipc';
import type { Clock, Fetch, LogSink } from './deps';
import { fail, IpcFailure, MESSAGES } from './errors';
import type { EventHub } from './events';

export interface TokenSource {
  /** A valid access token; pass the token a 401 refused to get a refreshed one. */
  accessToken(refusedToken?: string): Promise<string>;
}

export interface ApiRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT';
  /** Path under the base URL, segments already encoded. */
  path: string;
  /** Used in the log instead of the path, so ids never reach it. */
  route: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  ifMatch?: string;
  accept?: string;
}

export interface ApiClientDeps {
  baseUrl: string;
  fetch: Fetch;
  tokens: TokenSource;
  hub: EventHub;
  log: LogSink;
  clock: Clock;
  /** Recorded by the API with every audit and access event. */
  appVersion?: string;
}

export class ApiClient {
  private reachable: boolean | null = null;

  constructor(private readonly deps: ApiClientDeps) {}

  async json<S extends z.ZodType>(request: ApiRequest, schema: S): Promise<z.infer<S>> {
    const response = await this.send(request);
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      throw fail('internal', MESSAGES.badResponse, { status: response.status });
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      this.deps.log.write('error', 'api.response.invalid', { route: request.route, issues: parsed.error.issues.length });
      throw fail('internal', MESSAGES.badResponse, { status: response.status });
    }
    return parsed.data;
  }

  /** Streams a response body into `path` (via a temporary file), reporting rows as they arrive. */
  async download(request: ApiRequest, path: string, onRows: (rows: number, done: boolean) => void): Promise<number> {
    const response = await this.send(request);
    if (!response.body) throw fail('internal', MESSAGES.badResponse);
    const partial = `${path}.part`;
    // Counts CSV records: line ends outside quoted cells (a cell may hold a line break).
    let newlines = 0;
    let inQuotes = false;
    let lastChar = '\n';
    let lastReport = 0;
    const counter = new Transform({
      transform: (chunk: Buffer, _enc, done) => {
        for (const byte of chunk) {
          if (byte === 34) inQuotes = !inQuotes;
          else if (byte === 10 && !inQuotes) newlines++;
        }
        if (chunk.length) lastChar = String.fromCharCode(chunk[chunk.length - 1]!);
        const now = this.deps.clock.now();
        if (now - lastReport > 200) {
          lastReport = now;
          onRows(Math.max(newlines - 1, 0), false);
        }
        done(null, chunk);
      },
    });
    try {
      await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), counter, createWriteStream(partial, { mode: 0o600 }));
      await rename(partial, path);
    } catch (error) {
      await rm(partial, { force: true });
      if (error instanceof IpcFailure) throw error;
      this.connectivity(false);
      throw fail('unavailable', 'The export was interrupted. Try again.');
    }
    const lines = newlines + (lastChar === '\n' ? 0 : 1);
    const rows = Math.max(lines - 1, 0); // minus the header line
    onRows(rows, true);
    return rows;
  }

  /** Sends with the bearer token; on 401 refreshes once and replays. Non-2xx answers become IpcFailures. */
  private async send(request: ApiRequest): Promise<Response> {
    const started = this.deps.clock.now();
    let token = await this.deps.tokens.accessToken();
    let response = await this.attempt(request, token);
    if (response.status === 401) {
      await response.body?.cancel();
      this.deps.log.write('info', 'api.unauthorized.retry', { route: request.route });
      token = await this.deps.tokens.accessToken(token);
      response = await this.attempt(request, token);
    }
    this.deps.log.write(response.ok ? 'info' : 'warn', 'api.call', {
      method: request.method,
      route: request.route,
      status: response.status,
      ms: this.deps.clock.now() - started,
    });
    if (!response.ok) throw await toFailure(response);
    return response;
  }

  private async attempt(request: ApiRequest, token: string): Promise<Response> {
    const url = new URL(request.path.replace(/^\//, ''), this.deps.baseUrl.endsWith('/') ? this.deps.baseUrl : `${this.deps.baseUrl}/`);
    for (const [key, value] of Object.entries(request.query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    const headers: Record<string, string> = { Authorization: `Bearer ${token}`, Accept: request.accept ?? 'application/json' };
    if (request.body !== undefined) headers['Content-Type'] = 'application/json';
    if (request.ifMatch) headers['If-Match'] = request.ifMatch;
    if (this.deps.appVersion) headers['x-cims-app-version'] = this.deps.appVersion;
    try {
      const response = await this.deps.fetch(url.href, {
        method: request.method,
        headers,
        ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
        redirect: 'error',
      });
      this.connectivity(true);
      return response;
    } catch {
      this.connectivity(false);
      this.deps.log.write('warn', 'api.unreachable', { method: request.method, route: request.route });
      throw fail('unavailable', MESSAGES.unavailable);
    }
  }

  private connectivity(reachable: boolean): void {
    if (this.reachable === reachable) return;
    this.reachable = reachable;
    this.deps.hub.emit('api:connectivity', { reachable });
  }
}

const CODE_BY_STATUS: Record<number, IpcErrorCode> = {
  400: 'validation',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  412: 'conflict',
  422: 'validation',
  429: 'rate_limited',
  502: 'unavailable',
  503: 'unavailable',
  504: 'unavailable',
};

const DEFAULT_MESSAGES: Partial<Record<IpcErrorCode, string>> = {
  unauthenticated: MESSAGES.unauthenticated,
  forbidden: 'You are not allowed to do this.',
  not_found: 'Not found. It may have been archived or removed.',
  conflict: 'Someone else changed this record after you opened it. Reload it to see their change, then apply yours again.',
  validation: 'Some fields need attention.',
  rate_limited: 'Too many requests. Wait a moment and try again.',
  unavailable: MESSAGES.unavailable,
};

/** Maps an RFC 9457 problem (or any non-2xx answer) to an IpcFailure. 5xx details stay out. */
export async function toFailure(response: Response): Promise<IpcFailure> {
  const code: IpcErrorCode = CODE_BY_STATUS[response.status] ?? (response.status >= 500 ? 'internal' : 'internal');
  let problem: Problem | null = null;
  try {
    const parsed = Problem.safeParse(await response.json());
    problem = parsed.success ? parsed.data : null;
  } catch {
    problem = null;
  }
  const message =
    response.status < 500 && problem ? (problem.detail ?? problem.title) : (DEFAULT_MESSAGES[code] ?? MESSAGES.internal);
  return fail(code, message || (DEFAULT_MESSAGES[code] ?? MESSAGES.internal), {
    status: response.status,
    ...(problem?.requestId ? { requestId: problem.requestId } : {}),
    ...(code === 'validation' && problem?.errors ? { fieldErrors: problem.errors.map((e) => ({ path: e.path, message: e.message })) } : {}),
  });
}
