// Card numbers never enter the API. Every request body (JSON or text, on every
// endpoint) and every URL is searched for a run of 13 to 19 digits (single
// spaces or dashes allowed between them, as cards are written) that passes the
// Luhn check; a request holding one is refused with a 400 problem that names no
// part of it. The check runs while the body is parsed, before any handler, log
// line or database call sees it. Request logs carry the path only (logging.ts),
// never a body or a query string. The database refuses the same runs in
// customer and billing data (core.holds_pan, api/sql/functions/self.sql).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { HttpProblem } from './problems';

/** Digits, with a single space or dash allowed between two of them. */
const DIGIT_RUN = /[0-9](?:[ -]?[0-9])*/g;
const MIN_PAN = 13;
const MAX_PAN = 19;
/** Deeper JSON than this is walked as its raw text only (the raw scan covers everything anyway). */
const MAX_DEPTH = 64;

export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** True when `text` holds something that looks like a card number (see the top of this file). */
export function holdsPan(text: string, skipFractions = false): boolean {
  if (!/[0-9]{4}/.test(text)) return false;
  for (const m of text.matchAll(DIGIT_RUN)) {
    const start = m.index;
    // In raw JSON, the digits after a number's decimal point are not a card: 0.4242424242424242 is a score.
    if (skipFractions && start >= 2 && /[0-9]\.$/.test(text.slice(start - 2, start))) continue;
    const digits = m[0].replace(/[ -]/g, '');
    if (digits.length >= MIN_PAN && digits.length <= MAX_PAN && luhnValid(digits)) return true;
  }
  return false;
}

/** Every key and string of a parsed JSON value, and every whole number. */
export function valueHoldsPan(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return holdsPan(value);
  if (typeof value === 'number') return Number.isInteger(value) && holdsPan(value.toFixed(0));
  if (depth > MAX_DEPTH || typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) return value.some((v) => valueHoldsPan(v, depth + 1));
  return Object.entries(value).some(([k, v]) => holdsPan(k) || valueHoldsPan(v, depth + 1));
}

export const PAN_PROBLEM_SLUG = 'card-number';
export const PAN_PROBLEM_DETAIL =
  'This request holds what looks like a card number. Card numbers are never sent to this API: ' +
  'enter the card on the payment processor\u2019s page, which sends us only a token, the brand and the last four digits.';

const panProblem = () => new HttpProblem(400, PAN_PROBLEM_SLUG, PAN_PROBLEM_DETAIL);

/** A decimal number, as a query parameter holds one (a score threshold): only its integer part can be a card. */
const DECIMAL = /^-?([0-9]+)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

/** The path and every query parameter's name and value, decoded. */
export function urlHoldsPan(url: string): boolean {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  let decodedPath = path;
  try {
    decodedPath = decodeURIComponent(path);
  } catch {
    // Undecodable: searched as it came.
  }
  if (holdsPan(decodedPath)) return true;
  if (q < 0) return false;
  for (const [k, v] of new URLSearchParams(url.slice(q + 1))) {
    const decimal = DECIMAL.exec(v);
    if (holdsPan(k) || holdsPan(decimal ? decimal[1]! : v)) return true;
  }
  return false;
}

export const panGuardPlugin = fp(
  async (app: FastifyInstance) => {
    // Fastify's own JSON parser (prototype poisoning refused), behind the card check.
    const parseJson = app.getDefaultJsonParser('error', 'error');
    app.removeContentTypeParser(['application/json', 'text/plain']);
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (req: FastifyRequest, body: string | Buffer, done) => {
      const text = typeof body === 'string' ? body : body.toString('utf8');
      parseJson(req, text, (err: Error | null, value?: unknown) => {
        // A body that is not JSON is still searched (as text) before its parse error is answered.
        if (err) return done(holdsPan(text) ? panProblem() : err, undefined);
        // Strings are searched whole; the raw text once more for numbers beyond what a double holds exactly.
        if (valueHoldsPan(value) || holdsPan(text, true)) return done(panProblem(), undefined);
        done(null, value);
      });
    });
    app.addContentTypeParser('text/plain', { parseAs: 'string' }, (_req: FastifyRequest, body: string | Buffer, done) => {
      const text = typeof body === 'string' ? body : body.toString('utf8');
      if (holdsPan(text)) return done(panProblem(), undefined);
      done(null, text);
    });
    // Paths and query strings too: a search for a card number is refused, never run or recorded.
    app.addHook('onRequest', async (req) => {
      if (req.routeOptions.config?.access === 'public') return;
      if (/[0-9]{4}/.test(req.url) && urlHoldsPan(req.url)) throw panProblem();
    });
  },
  { name: 'cims-pan-guard', fastify: '5.x', dependencies: ['cims-problems'] },
);
