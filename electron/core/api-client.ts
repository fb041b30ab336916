// The API client: every request is built from the HTTP contract (method, path,
// If-Match) and its answer validated with the contract's schema for the status
// it came with. Bearer token from the session, one retry after a refresh on
// 401, one retry after Retry-After when the API is busy and the request is safe
// to repeat, problem+json mapped to IpcError codes. Tokens and ids never reach
// the log: only method, path template, status and timing do.
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { z } from 'zod';
import { etagFor, Problem } from '../../shared/api';
import { pathFor, successStatus, type CallInput, type Endpoint, type SuccessSchema } from '../../shared/http';
import type { IpcErrorCode } from '../../shared/ipc';
import type { Clock, Fetch, LogSink } from './deps';
import type { DpopKey } from './dpop';
import { fail, IpcFailure, MESSAGES } from './errors';
import type { EventHub } from './events';

export interface TokenSource {
  /** A valid access token; pass the token a 401 refused to get a refreshed one. */
  accessToken(refusedToken?: string): Promise<string>;
  /** The key the access token is bound to (DPoP, RFC 9449); absent or null: a bearer token. */
  proofKey?(): DpopKey | null;
}

/** One request as sent, built from an endpoint of the contract. */
interface ApiRequest {
  endpoint: Endpoint;
  /** Path under the base URL, segments encoded. */
  path: string;
  query?: Readonly<Record<string, unknown>>;
  body?: unknown;
  ifMatch?: string;
  accept: string;
  /** Extra request headers (the change stream's Last-Event-ID). */
  headers?: Readonly<Record<string, string>>;
  /** Ends a long request (the change stream) from this side. */
  signal?: AbortSignal;
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
  /** Waits before the retry of a busy answer; timers by default, instant in tests. */
  sleep?: (ms: number) => Promise<void>;
}

/** The longest the console waits for a busy API before its one retry, whatever Retry-After asks. */
export const MAX_BUSY_WAIT_MS = 5_000;
const DEFAULT_BUSY_WAIT_MS = 1_000;
const BUSY_TYPE = 'urn:cims:problem:busy';

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class ApiClient {
  private reachable: boolean | null = null;

  constructor(private readonly deps: ApiClientDeps) {}

  /** Calls one endpoint of the contract; resolves with its 2xx body, validated, or throws an IpcFailure. */
  async call<E extends Endpoint>(endpoint: E, input: CallInput<E>): Promise<z.output<SuccessSchema<E>>> {
    const request = this.build(endpoint, input, 'application/json');
    const response = await this.send(request);
    const schema = endpoint.responses[response.status];
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      throw fail('internal', MESSAGES.badResponse, { status: response.status });
    }
    const parsed = schema?.safeParse(body);
    if (!parsed?.success) {
      this.deps.log.write('error', 'api.response.invalid', { route: endpoint.path, status: response.status, issues: parsed?.error.issues.length ?? null });
      throw fail('internal', MESSAGES.badResponse, { status: response.status });
    }
    return parsed.data as z.output<SuccessSchema<E>>;
  }

  /**
   * Streams the body of a non-JSON endpoint into `path` (via a temporary file), reporting records
   * and bytes as they arrive: CSV rows after the header line, or an evidence bundle's lines between
   * its header and end lines (NDJSON).
   */
  async download<E extends Endpoint & { produces: NonNullable<Endpoint['produces']> }>(
    endpoint: E,
    input: CallInput<E>,
    path: string,
    onRows: (rows: number, done: boolean, bytes: number) => void,
  ): Promise<number> {
    const response = await this.send(this.build(endpoint, input, endpoint.produces));
    if (response.status !== successStatus(endpoint)) {
      await response.body?.cancel();
      throw fail('internal', MESSAGES.badResponse, { status: response.status });
    }
    if (!response.body) throw fail('internal', MESSAGES.badResponse);
    const partial = `${path}.part`;
    // Counts records: line ends, outside quoted cells in CSV (a cell may hold a line break; a JSON
    // line never does). Lines that are not records: CSV's header; NDJSON's header and end lines.
    const csv = endpoint.produces === 'text/csv';
    const framing = csv ? 1 : 2;
    let newlines = 0;
    let bytes = 0;
    let inQuotes = false;
    let lastChar = '\n';
    let lastReport = 0;
    const counter = new Transform({
      transform: (chunk: Buffer, _enc, done) => {
        for (const byte of chunk) {
          if (byte === 34 && csv) inQuotes = !inQuotes;
          else if (byte === 10 && !inQuotes) newlines++;
        }
        bytes += chunk.length;
        if (chunk.length) lastChar = String.fromCharCode(chunk[chunk.length - 1]!);
        const now = this.deps.clock.now();
        if (now - lastReport > 200) {
          lastReport = now;
          onRows(Math.max(newlines - 1, 0), false, bytes);
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
    const rows = Math.max(lines - framing, 0);
    onRows(rows, true, bytes);
    return rows;
  }

  /**
   * Opens a streamed endpoint (the change stream) through the same path as every call: token,
   * DPoP proof, one refresh on 401, problems as IpcFailures. Resolves with the 2xx response
   * whose body the caller reads; `signal` ends it.
   */
  async open<E extends Endpoint & { produces: NonNullable<Endpoint['produces']> }>(
    endpoint: E,
    input: CallInput<E>,
    options: { headers?: Readonly<Record<string, string>>; signal?: AbortSignal } = {},
  ): Promise<Response> {
    const request = { ...this.build(endpoint, input, endpoint.produces), ...options };
    const response = await this.send(request);
    if (response.status !== successStatus(endpoint) || !response.body) {
      await response.body?.cancel();
      throw fail('internal', MESSAGES.badResponse, { status: response.status });
    }
    return response;
  }

  private build(endpoint: Endpoint, input: CallInput<Endpoint>, accept: string): ApiRequest {
    const { params, query, body, ifMatch } = input as { params?: Record<string, string>; query?: Record<string, unknown>; body?: unknown; ifMatch?: number };
    return {
      endpoint,
      path: pathFor(endpoint, params),
      accept,
      ...(query !== undefined ? { query } : {}),
      ...(body !== undefined ? { body } : {}),
      ...(endpoint.ifMatch && ifMatch !== undefined ? { ifMatch: etagFor(ifMatch) } : {}),
    };
  }

  /**
   * Sends with the bearer token. On 401 refreshes once and replays. On 503 busy, when
   * repeating cannot apply a change twice (a read, or a PATCH whose If-Match makes a
   * second apply a 412), waits for Retry-After (at most MAX_BUSY_WAIT_MS) and tries once
   * more. Non-2xx answers become IpcFailures.
   */
  private async send(request: ApiRequest): Promise<Response> {
    const started = this.deps.clock.now();
    let response = await this.authorized(request);
    if (response.status === 503 && repeatable(request)) {
      const failure = await toFailure(response);
      if (failure.error.code !== 'busy') {
        this.logCall(request, response.status, started);
        throw failure;
      }
      const waitMs = busyWaitMs(response.headers.get('retry-after'), this.deps.clock.now());
      this.deps.log.write('info', 'api.busy.retry', { method: request.endpoint.method, route: request.endpoint.path, waitMs });
      await (this.deps.sleep ?? realSleep)(waitMs);
      response = await this.authorized(request);
    }
    this.logCall(request, response.status, started);
    if (!response.ok) throw await toFailure(response);
    return response;
  }

  private async authorized(request: ApiRequest): Promise<Response> {
    const token = await this.deps.tokens.accessToken();
    const response = await this.attempt(request, token);
    if (response.status !== 401) return response;
    await response.body?.cancel();
    this.deps.log.write('info', 'api.unauthorized.retry', { route: request.endpoint.path });
    return this.attempt(request, await this.deps.tokens.accessToken(token));
  }

  private logCall(request: ApiRequest, status: number, started: number): void {
    this.deps.log.write(status < 400 ? 'info' : 'warn', 'api.call', {
      method: request.endpoint.method,
      route: request.endpoint.path,
      status,
      ms: this.deps.clock.now() - started,
    });
  }

  private async attempt(request: ApiRequest, token: string): Promise<Response> {
    const url = new URL(request.path.replace(/^\//, ''), this.deps.baseUrl.endsWith('/') ? this.deps.baseUrl : `${this.deps.baseUrl}/`);
    for (const [key, value] of Object.entries(request.query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    const headers: Record<string, string> = { ...request.headers, Accept: request.accept };
    if (request.body !== undefined) headers['Content-Type'] = 'application/json';
    if (request.ifMatch) headers['If-Match'] = request.ifMatch;
    if (this.deps.appVersion) headers['x-cims-app-version'] = this.deps.appVersion;
    // Every request, the change stream's included, passes here: a bound token always goes with a fresh proof.
    const key = this.deps.tokens.proofKey?.() ?? null;
    const method = request.endpoint.method;
    const once = async () => {
      if (key) {
        headers.Authorization = `DPoP ${token}`;
        headers.DPoP = await key.proof({ method, url: url.href, accessToken: token });
      } else {
        headers.Authorization = `Bearer ${token}`;
      }
      return this.deps.fetch(url.href, {
        method,
        headers,
        ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
        ...(request.signal ? { signal: request.signal } : {}),
        redirect: 'error',
      });
    };
    try {
      let response = await once();
      // The API asked for its nonce (RFC 9449 9): once more with a proof that carries it; the token is fine.
      if (key?.noteNonce(url.href, response)) {
        await response.body?.cancel();
        this.deps.log.write('info', 'api.dpopNonce.retry', { route: request.endpoint.path });
        response = await once();
        key.noteNonce(url.href, response);
      }
      this.connectivity(true);
      return response;
    } catch {
      // Ended from this side (sign-out, lock): not a sign that the API is away.
      if (request.signal?.aborted) throw fail('unavailable', MESSAGES.unavailable);
      this.connectivity(false);
      this.deps.log.write('warn', 'api.unreachable', { method: request.endpoint.method, route: request.endpoint.path });
      throw fail('unavailable', MESSAGES.unavailable);
    }
  }

  private connectivity(reachable: boolean): void {
    if (this.reachable === reachable) return;
    this.reachable = reachable;
    this.deps.hub.emit('api:connectivity', { reachable });
  }
}

/** A retry cannot apply a change twice: a read, or a PATCH that If-Match pins to one version. */
function repeatable(request: ApiRequest): boolean {
  return request.endpoint.method === 'GET' || (request.endpoint.method === 'PATCH' && request.ifMatch !== undefined);
}

/** Retry-After in seconds or as an HTTP date, capped; a second when absent or unreadable. */
export function busyWaitMs(header: string | null, now: number): number {
  if (header === null) return DEFAULT_BUSY_WAIT_MS;
  const ms = /^\s*\d+\s*$/.test(header) ? Number(header) * 1000 : Date.parse(header) - now;
  if (Number.isNaN(ms)) return DEFAULT_BUSY_WAIT_MS;
  return Math.min(Math.max(ms, 0), MAX_BUSY_WAIT_MS);
}

const CODE_BY_STATUS: Readonly<Record<number, IpcErrorCode>> = {
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

/**
 * Maps an RFC 9457 problem (or any non-2xx answer) to an IpcFailure. A client error says
 * what the API said; a server error says only what its code means (no internals), and a
 * 503 busy says so, since the API was reached and only asked to retry later.
 */
export async function toFailure(response: Response): Promise<IpcFailure> {
  let problem: Problem | null = null;
  try {
    // Every non-2xx answer of the contract is a Problem.
    const parsed = Problem.safeParse(await response.json());
    problem = parsed.success ? parsed.data : null;
  } catch {
    problem = null;
  }
  const busy = response.status === 503 && problem?.type === BUSY_TYPE;
  const code: IpcErrorCode = busy ? 'busy' : (CODE_BY_STATUS[response.status] ?? 'internal');
  const message = response.status < 500 && problem ? problem.detail || problem.title || MESSAGES[code] : MESSAGES[code];
  return fail(code, message, {
    status: response.status,
    ...(problem?.requestId ? { requestId: problem.requestId } : {}),
    ...(code === 'validation' && problem?.errors ? { fieldErrors: problem.errors.map((e) => ({ path: e.path, message: e.message })) } : {}),
  });
}
