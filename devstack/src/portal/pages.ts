// The demo portal's pages: server-rendered HTML, one stylesheet and one script
// (the stand-in processor's tokenizer), both served from the portal itself, so a
// strict CSP holds. Light and dark follow the system (prefers-color-scheme).
import type { BillingMethodMasked, SelfOrganization } from '../../../shared/api';

export const CSS = `
:root{color-scheme:light dark;--bg:#f4f5f7;--card:#fff;--text:#1d2330;--muted:#4a5568;--line:#c9ced8;--accent:#1c4fb8;--accent-text:#fff;
--ok-bg:#e7f5ec;--ok-text:#14532d;--ok-line:#9fd3b0;--err-bg:#fdecea;--err-text:#8a1c12;--err-line:#f1b0a8;--stand-in:#fff4d6;--stand-in-line:#d9a520}
@media (prefers-color-scheme:dark){:root{--bg:#12151c;--card:#1c212b;--text:#e7eaf0;--muted:#a9b2c3;--line:#3a4252;--accent:#7aa7ff;--accent-text:#0b1222;
--ok-bg:#12301f;--ok-text:#b5e8c8;--ok-line:#2f6b45;--err-bg:#3a1512;--err-text:#ffc9c2;--err-line:#7a3129;--stand-in:#3a2f0f;--stand-in-line:#b8891a}}
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--text);margin:0;line-height:1.45}
header{background:var(--card);border-bottom:1px solid var(--line);padding:.8rem 1.5rem;display:flex;justify-content:space-between;align-items:center;gap:1rem}
header p{margin:0;font-weight:700}header form{margin:0}
main{max-width:40rem;margin:2rem auto;padding:0 1rem}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:1.25rem 1.5rem;margin-bottom:1.5rem}
h1{font-size:1.5rem;margin:0 0 1rem}h2{font-size:1.15rem;margin:0 0 .75rem}
label{display:block;font-weight:600;margin:.9rem 0 .25rem}
input{width:100%;padding:.55rem;font-size:1rem;border:1px solid var(--line);border-radius:4px;background:var(--card);color:var(--text)}
input[aria-invalid=true]{border-color:var(--err-text)}
.row{display:flex;gap:1rem}.row>div{flex:1}
:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
button,.button{display:inline-block;margin-top:1rem;padding:.6rem 1.1rem;font-size:1rem;font-weight:600;border:0;border-radius:4px;background:var(--accent);color:var(--accent-text);cursor:pointer;text-decoration:none}
button.secondary{background:transparent;color:var(--accent);border:1px solid var(--accent);margin-top:0}
.notice{padding:.7rem .9rem;border-radius:4px;margin-bottom:1rem;border:1px solid}
.ok{background:var(--ok-bg);color:var(--ok-text);border-color:var(--ok-line)}
.error{background:var(--err-bg);color:var(--err-text);border-color:var(--err-line)}
.field-error{color:var(--err-text);font-size:.9rem;margin:.25rem 0 0}
.muted{color:var(--muted);font-size:.92rem}
.stand-in{background:var(--stand-in);border:2px dashed var(--stand-in-line)}
.stand-in .badge{display:inline-block;font-weight:700;font-size:.8rem;letter-spacing:.04em;text-transform:uppercase;margin-bottom:.5rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem;margin:0}dt{font-weight:600}dd{margin:0}
a{color:var(--accent)}
`;

/**
 * The stand-in processor's tokenizer, in the customer's browser. The card fields
 * have no name, so a form without this script sends nothing of them; with it,
 * only a random token, the brand, the last four digits and the expiry are
 * submitted. A real processor keeps the number on its side and returns such a token.
 */
export const PROCESSOR_JS = `
'use strict';
(function () {
  var form = document.getElementById('card-form');
  if (!form) return;
  function luhn(d) { var s = 0; for (var i = 0; i < d.length; i++) { var n = +d[d.length - 1 - i]; if (i % 2) { n *= 2; if (n > 9) n -= 9; } s += n; } return s % 10 === 0; }
  function brandOf(d) {
    if (/^4/.test(d)) return 'visa';
    if (/^(5[1-5]|2(2[2-9]|[3-6]|7[01]|720))/.test(d)) return 'mastercard';
    if (/^3[47]/.test(d)) return 'amex';
    if (/^(6011|65)/.test(d)) return 'discover';
    return 'other';
  }
  function token() {
    var abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', bytes = new Uint8Array(24), out = 'tok_demo_';
    crypto.getRandomValues(bytes);
    for (var i = 0; i < bytes.length; i++) out += abc[bytes[i] % abc.length];
    return out;
  }
  function fail(id, message) {
    var el = document.getElementById(id), box = document.getElementById(id + '-error');
    el.setAttribute('aria-invalid', 'true'); box.textContent = message; box.hidden = false; el.focus();
  }
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    ['card-number', 'card-expiry', 'card-cvc'].forEach(function (id) {
      document.getElementById(id).removeAttribute('aria-invalid'); document.getElementById(id + '-error').hidden = true;
    });
    var digits = document.getElementById('card-number').value.replace(/[ -]/g, '');
    var exp = /^\\s*(0[1-9]|1[0-2])\\s*\\/\\s*([0-9]{2})\\s*$/.exec(document.getElementById('card-expiry').value);
    var cvc = document.getElementById('card-cvc').value.trim();
    if (!/^[0-9]{13,19}$/.test(digits) || !luhn(digits)) return fail('card-number', 'Enter a valid card number.');
    if (!exp) return fail('card-expiry', 'Enter the expiry as MM/YY.');
    if (!/^[0-9]{3,4}$/.test(cvc)) return fail('card-cvc', 'Enter the 3 or 4 digit security code.');
    var out = document.getElementById('tokenized');
    out.elements.processorToken.value = token();
    out.elements.brand.value = brandOf(digits);
    out.elements.last4.value = digits.slice(-4);
    out.elements.expMonth.value = String(+exp[1]);
    out.elements.expYear.value = String(2000 + +exp[2]);
    // The number and code stay here: clear them before anything leaves the page.
    form.reset();
    out.submit();
  });
})();
`;

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"'`=/]/g, (c) => `&#${c.charCodeAt(0)};`);
}

export interface Shell {
  title: string;
  /** The signed-in contact's name, for the header's sign-out. */
  signedInAs?: string;
  csrf?: string;
  script?: boolean;
}

/** `body` must already be escaped HTML. */
export function layout(shell: Shell, body: string): string {
  const signOut = shell.signedInAs
    ? `<form method="post" action="/logout"><input type="hidden" name="csrf" value="${escapeHtml(shell.csrf ?? '')}"><span class="muted">${escapeHtml(shell.signedInAs)}</span> <button type="submit" class="secondary">Sign out</button></form>`
    : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(shell.title)}</title>
<link rel="stylesheet" href="/portal.css">
${shell.script ? '<script src="/processor.js" defer></script>' : ''}
</head>
<body>
<header><p>Customer portal <span class="muted">(demo)</span></p>${signOut}</header>
<main>
${body}
</main>
</body>
</html>`;
}

export function signInPage(message?: { kind: 'ok' | 'error'; text: string }): string {
  return layout(
    { title: 'Sign in - Customer portal' },
    `<section>
<h1>Your organization's details</h1>
${message ? notice(message.kind, message.text) : ''}
<p>Sign in with your company account to see and change your organization's contact and the card on file.</p>
<a class="button" href="/login">Sign in</a>
</section>`,
  );
}

export function notice(kind: 'ok' | 'error', text: string): string {
  return `<div class="notice ${kind}" role="${kind === 'error' ? 'alert' : 'status'}">${escapeHtml(text)}</div>`;
}

const BRAND_NAMES: Record<string, string> = { visa: 'Visa', mastercard: 'Mastercard', amex: 'American Express', discover: 'Discover', other: 'Card' };
export const cardLabel = (b: BillingMethodMasked): string =>
  `${BRAND_NAMES[b.brand] ?? 'Card'} ending ${b.last4}, expires ${String(b.expMonth).padStart(2, '0')}/${b.expYear}`;

export interface ContactForm {
  values: { contactName: string; contactEmail: string; contactPhone: string };
  errors: Partial<Record<'contactName' | 'contactEmail' | 'contactPhone', string>>;
}

function field(id: 'contactName' | 'contactEmail' | 'contactPhone', label: string, type: string, autocomplete: string, form: ContactForm): string {
  const error = form.errors[id];
  return `<label for="${id}">${label}</label>
<input id="${id}" name="${id}" type="${type}" autocomplete="${autocomplete}" required value="${escapeHtml(form.values[id])}"${error ? ` aria-invalid="true" aria-describedby="${id}-error"` : ''}>
${error ? `<p class="field-error" id="${id}-error">${escapeHtml(error)}</p>` : ''}`;
}

export function organizationPage(o: {
  org: SelfOrganization;
  name: string;
  csrf: string;
  form?: ContactForm;
  message?: { kind: 'ok' | 'error'; text: string };
}): string {
  const form: ContactForm = o.form ?? { values: { contactName: o.org.contactName, contactEmail: o.org.contactEmail, contactPhone: o.org.contactPhone }, errors: {} };
  const card = o.org.billing.at(-1);
  return layout(
    { title: 'Your organization - Customer portal', signedInAs: o.name, csrf: o.csrf },
    `<h1>Your organization <span class="muted">${escapeHtml(o.org.orgId)}</span></h1>
${o.message ? notice(o.message.kind, o.message.text) : ''}
<section aria-labelledby="contact-heading">
<h2 id="contact-heading">Contact</h2>
<form method="post" action="/contact" novalidate>
<input type="hidden" name="csrf" value="${escapeHtml(o.csrf)}">
<input type="hidden" name="version" value="${o.org.version}">
${field('contactName', 'Contact name', 'text', 'name', form)}
${field('contactEmail', 'Contact email', 'email', 'email', form)}
${field('contactPhone', 'Contact phone', 'tel', 'tel', form)}
<button type="submit">Save contact</button>
</form>
</section>
<section aria-labelledby="card-heading">
<h2 id="card-heading">Card on file</h2>
${card ? `<p id="card-on-file">${escapeHtml(cardLabel(card))}</p>` : '<p id="card-on-file" class="muted">No card on file.</p>'}
<a class="button" href="/card">${card ? 'Replace card' : 'Add a card'}</a>
</section>`,
  );
}

export function processorPage(o: { name: string; csrf: string; error?: string }): string {
  return layout(
    { title: 'Replace card - Customer portal', signedInAs: o.name, csrf: o.csrf, script: true },
    `<h1>Replace your card</h1>
${o.error ? notice('error', o.error) : ''}
<section class="stand-in" aria-labelledby="processor-heading">
<p class="badge">Demo stand-in for the payment processor</p>
<h2 id="processor-heading">Card details</h2>
<p class="muted">In production this form is the payment processor's own page. Here a script in your browser turns the card into a token, and only the token, the brand, the last four digits and the expiry are sent on: the card number and security code never reach the portal or our systems. Use a test card, such as 5555 5555 5555 4444.</p>
<form id="card-form" novalidate>
<label for="card-number">Card number</label>
<input id="card-number" inputmode="numeric" autocomplete="cc-number" aria-describedby="card-number-error">
<p class="field-error" id="card-number-error" hidden></p>
<div class="row">
<div><label for="card-expiry">Expiry (MM/YY)</label>
<input id="card-expiry" inputmode="numeric" autocomplete="cc-exp" placeholder="MM/YY" aria-describedby="card-expiry-error">
<p class="field-error" id="card-expiry-error" hidden></p></div>
<div><label for="card-cvc">Security code</label>
<input id="card-cvc" inputmode="numeric" autocomplete="cc-csc" aria-describedby="card-cvc-error">
<p class="field-error" id="card-cvc-error" hidden></p></div>
</div>
<button type="submit">Use this card</button>
</form>
</section>
<form id="tokenized" method="post" action="/card" hidden>
<input type="hidden" name="csrf" value="${escapeHtml(o.csrf)}">
<input type="hidden" name="processorToken"><input type="hidden" name="brand"><input type="hidden" name="last4">
<input type="hidden" name="expMonth"><input type="hidden" name="expYear">
</form>
<p><a href="/">Back to your organization</a></p>`,
  );
}

export function errorPage(title: string, text: string, signedIn?: { name: string; csrf: string }): string {
  return layout(
    { title: `${title} - Customer portal`, ...(signedIn ? { signedInAs: signedIn.name, csrf: signedIn.csrf } : {}) },
    `<section><h1>${escapeHtml(title)}</h1>${notice('error', text)}<a class="button" href="/">Try again</a></section>`,
  );
}
