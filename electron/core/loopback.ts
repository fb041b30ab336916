// The loopback redirect listener of RFC 8252 7.3: bound to 127.0.0.1 on a port
// the OS picks, listening before the browser opens. It answers GET /callback
// only; anything else (favicon, preconnect, a stray tab) gets 404 and it keeps
// waiting. A callback with the wrong (or no) state is answered 400 and ignored:
// anyone on this machine can reach the port, and such a request must not be
// able to abort the user's sign-in. The right one gets a small page and the
// listener closes. It gives up after a timeout or on cancel.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type LoopbackFailure = 'timeout' | 'cancelled' | 'provider_error';

export class LoopbackError extends Error {
  override name = 'LoopbackError';
  constructor(
    readonly reason: LoopbackFailure,
    message: string,
    /** For provider_error: the OAuth error code (e.g. access_denied). */
    readonly oauthError?: string,
  ) {
    super(message);
  }
}

export interface LoopbackListener {
  redirectUri: string;
  /** Resolves with the full callback URL (code and state), rejects with a LoopbackError. */
  callback: Promise<URL>;
  cancel(): void;
}

export interface LoopbackOptions {
  expectedState: string;
  timeoutMs: number;
  /** The page the browser shows after a successful callback. */
  successHtml?: string;
  failureHtml?: string;
}

const page = (title: string, body: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<style>body{font-family:system-ui,sans-serif;background:#f4f6fa;color:#1b2a41;display:grid;place-items:center;height:100vh;margin:0}
main{background:#fff;border-radius:12px;padding:2rem 2.5rem;box-shadow:0 2px 12px #0002;max-width:28rem;text-align:center}
h1{font-size:1.25rem;margin:0 0 .5rem}.brand{color:#2b5fab;font-weight:700;letter-spacing:.04em}</style></head>
<body><main><div class="brand">CIMS Console</div><h1>${title}</h1><p>${body}</p></main></body></html>`;

export const SIGNED_IN_PAGE = page('You are signed in', 'You can close this tab and return to CIMS Console.');
const FAILED_PAGE = page('Sign-in did not complete', 'Return to CIMS Console and try again.');
const IGNORED_PAGE = page(
  'This response was ignored',
  'It does not belong to the sign-in CIMS Console is waiting for. If you are signing in, finish in the browser tab the console opened.',
);

const SECURITY_HEADERS = {
  'Content-Type': 'text/html; charset=utf-8',
  'Cache-Control': 'no-store',
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  Connection: 'close',
};

export async function startLoopbackListener(options: LoopbackOptions): Promise<LoopbackListener> {
  let settle!: { resolve: (url: URL) => void; reject: (error: LoopbackError) => void };
  const callback = new Promise<URL>((resolve, reject) => (settle = { resolve, reject }));
  // Nobody may be awaiting yet when the timeout fires; the rejection is still delivered to whoever awaits later.
  callback.catch(() => undefined);
  let done = false;

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (done || req.method !== 'GET' || url.pathname !== '/callback') {
      res.writeHead(404, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' }).end('Not found');
      return;
    }
    const state = url.searchParams.get('state');
    if (state !== options.expectedState) {
      // Checked before the error parameter too, so a forged `?error=` cannot end the sign-in either.
      res.writeHead(400, SECURITY_HEADERS).end(IGNORED_PAGE);
      return;
    }
    const oauthError = url.searchParams.get('error');
    if (oauthError) {
      res.writeHead(400, SECURITY_HEADERS).end(options.failureHtml ?? FAILED_PAGE);
      finish(new LoopbackError('provider_error', 'The identity provider did not sign you in.', oauthError));
      return;
    }
    res.writeHead(200, SECURITY_HEADERS).end(options.successHtml ?? SIGNED_IN_PAGE);
    finish(new URL(`${redirectUri}${url.search}`));
  });
  server.keepAliveTimeout = 1;

  const finish = (outcome: URL | LoopbackError) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    // Let the response flush, then stop accepting and drop idle browser connections.
    server.close();
    setImmediate(() => server.closeAllConnections());
    if (outcome instanceof URL) settle.resolve(outcome);
    else settle.reject(outcome);
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const redirectUri = `http://127.0.0.1:${port}/callback`;
  const timer = setTimeout(() => finish(new LoopbackError('timeout', 'Sign-in timed out.')), options.timeoutMs);
  timer.unref?.();

  return { redirectUri, callback, cancel: () => finish(new LoopbackError('cancelled', 'Sign-in was cancelled.')) };
}
