// The provider's own pages: plain HTML with one inline stylesheet allowed by
// its hash, no scripts and no external assets, so a strict CSP holds.
import { createHash } from 'node:crypto';

const CSS = [
  'body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f5f7;color:#1d2330;margin:0}',
  'main{max-width:22rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.15)}',
  'h1{font-size:1.4rem;margin:0 0 .25rem}p{line-height:1.4}',
  'label{display:block;font-weight:600;margin:1rem 0 .25rem}',
  'input{width:100%;box-sizing:border-box;padding:.55rem;font-size:1rem;border:1px solid #8a94a6;border-radius:4px}',
  'input:focus,button:focus,a:focus{outline:3px solid #1c64d8;outline-offset:1px}',
  'button{margin-top:1.25rem;width:100%;padding:.65rem;font-size:1rem;font-weight:600;border:0;border-radius:4px;background:#1c4fb8;color:#fff;cursor:pointer}',
  '.error{background:#fdecea;color:#8a1c12;border:1px solid #f1b0a8;padding:.6rem;border-radius:4px}',
  '.muted{color:#4a5568;font-size:.9rem}a{color:#1c4fb8}',
].join('');

const STYLE_HASH = `'sha256-${createHash('sha256').update(CSS).digest('base64')}'`;

/**
 * Redirects after a form post count against form-action in Chromium, so the
 * loopback callbacks of native clients are listed next to 'self'.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  `style-src ${STYLE_HASH}`,
  "img-src 'self'",
  "form-action 'self' http://127.0.0.1:* http://localhost:*",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export const PAGE_HEADERS: Record<string, string> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': PAGE_CSP,
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"'`=/]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** `body` must already be escaped HTML. */
export function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>`;
}

export interface LoginPageInput {
  action: string;
  abortAction: string;
  clientName: string;
  username?: string;
  error?: string;
}

export function loginPage(input: LoginPageInput): string {
  const error = input.error ? `<p class="error" role="alert" id="login-error">${escapeHtml(input.error)}</p>` : '';
  const describedBy = input.error ? ' aria-describedby="login-error"' : '';
  return page(
    'Sign in - CIMS',
    `<h1>Sign in</h1>
<p class="muted">to continue to ${escapeHtml(input.clientName)}</p>
${error}
<form method="post" action="${escapeHtml(input.action)}" autocomplete="on">
<label for="username">Username</label>
<input id="username" name="username" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required maxlength="100" value="${escapeHtml(input.username ?? '')}"${describedBy}${input.username ? '' : ' autofocus'}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required maxlength="200"${describedBy}${input.username ? ' autofocus' : ''}>
<button type="submit">Sign in</button>
</form>
<p class="muted"><a href="${escapeHtml(input.abortAction)}">Cancel and return to the application</a></p>`,
  );
}

export function messagePage(title: string, message: string): string {
  return page(title, `<h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(message)}</p>`);
}
