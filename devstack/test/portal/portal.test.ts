// The demo portal over HTTP, as a browser drives it: the provider's login page
// (the portal as a confidential client), then the portal's own pages, against
// the real API on a scratch PostgreSQL database. What the customer does arrives
// in the database as their own audited change; a staff account is turned away;
// a form holding a card number never reaches the API.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type RunningApi } from '../../../api/src/server';
import { createTestAudit, type TestAudit } from '../../../testing/audit';
import { CookieJar, decodeHtml } from '../../../testing/browser';
import { auditEventsFor, createTestDatabase, seedBilling, seedCustomer, type TestDatabase } from '../../../testing/db';
import { startIdentityProvider, type IdentityProvider } from '../../src/idp/provider';
import { startPortal, type Portal } from '../../src/portal/portal';
import { DEMO_ACCOUNTS, DEMO_CUSTOMER_ACCOUNTS } from '../../src/seed/demo-accounts';

const dana = DEMO_CUSTOMER_ACCOUNTS.find((a) => a.username === 'dana')!;
const alice = DEMO_ACCOUNTS.find((a) => a.username === 'alice')!;

let dataDir: string;
let db: TestDatabase;
let audit: TestAudit;
let portal: Portal;
let idp: IdentityProvider;
let api: RunningApi;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'cims-portal-'));
  db = await createTestDatabase();
  audit = createTestAudit();
  await seedCustomer(db.admin, { orgId: dana.orgId, ownerSub: 'alice', ownerName: 'Alice Martin', contactPhone: '+1 555 0100' });
  await seedBilling(db.admin, dana.orgId, { brand: 'visa', last4: '4242' });
  portal = await startPortal({ port: 0 });
  idp = await startIdentityProvider({ port: 0, dataDir, portal: { redirectUri: portal.redirectUri, baseUrl: portal.url } });
  api = await startApi({ store: db.store, audit: audit.config, issuer: idp.issuer, audience: idp.apiAudience, portalClientId: idp.portal!.clientId, port: 0, logger: false });
  portal.connect({ issuer: idp.issuer, ...idp.portal!, audience: idp.apiAudience, apiUrl: api.url });
}, 120_000);

afterAll(async () => {
  await api?.close();
  await idp?.close();
  await portal?.close();
  await db?.drop();
  audit?.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

interface Page {
  status: number;
  url: string;
  html: string;
}

/** A browser: one cookie jar, redirects followed (POST becomes GET after 302/303). */
class Visitor {
  readonly jar = new CookieJar();
  async go(url: string, form?: Record<string, string>): Promise<Page> {
    let current = url;
    let body = form ? new URLSearchParams(form).toString() : undefined;
    for (let hops = 0; hops < 12; hops++) {
      const res = await fetch(current, {
        method: body ? 'POST' : 'GET',
        redirect: 'manual',
        headers: { cookie: this.jar.header(), ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
        body,
      });
      this.jar.store(res);
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        current = new URL(location, current).href;
        body = undefined;
        continue;
      }
      return { status: res.status, url: current, html: await res.text() };
    }
    throw new Error('too many redirects');
  }
  /** Submits the form whose action is `action` with its hidden fields and `fields`. */
  submit(page: Page, action: string | RegExp, fields: Record<string, string>): Promise<Page> {
    const forms = [...page.html.matchAll(/<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)];
    const form = forms.find((f) => (typeof action === 'string' ? decodeHtml(f[1]!) === action : action.test(decodeHtml(f[1]!))));
    if (!form) throw new Error(`no form for ${action} on ${page.url}`);
    const hidden = Object.fromEntries([...form[2]!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, decodeHtml(m[2]!)]));
    return this.go(new URL(decodeHtml(form[1]!), page.url).href, { ...hidden, ...fields });
  }
  async signIn(who: { username: string; password: string }): Promise<Page> {
    const login = await this.go(`${portal.url}/login`);
    expect(login.url.startsWith(`${idp.issuer}/interaction/`)).toBe(true);
    expect(login.html).toContain('the customer portal');
    return this.submit(login, /\/login$/, { username: who.username, password: who.password });
  }
}

const csrfOf = (page: Page) => decodeHtml(/name="csrf" value="([^"]+)"/.exec(page.html)?.[1] ?? '');

describe('the demo portal', () => {
  it('signs the contact in on the provider\'s page and shows their organization, contact and masked card only', async () => {
    const v = new Visitor();
    const start = await v.go(portal.url);
    expect(start.html).toContain('Sign in');
    const home = await v.signIn(dana);
    expect(home.status).toBe(200);
    expect(home.url).toBe(`${portal.url}/`);
    expect(home.html).toContain(dana.orgId);
    expect(home.html).toContain('Visa ending 4242');
    expect(home.html).toContain(dana.name);
    // The contact's token stays in the portal's back end; the browser holds a session cookie only.
    expect(v.jar.header()).not.toMatch(/eyJ/);
    expect(home.html).not.toMatch(/eyJ|tok_/);
  });

  it('saves a changed phone as the contact\'s own change, via the portal', async () => {
    const v = new Visitor();
    const home = await v.signIn(dana);
    const version = /name="version" value="(\d+)"/.exec(home.html)![1]!;
    const saved = await v.submit(home, '/contact', { version, contactName: 'Ron Kohler', contactEmail: 'ron@example.org', contactPhone: '+44 20 7946 0555' });
    expect(saved.html).toContain('Your contact details were saved.');
    expect(saved.html).toContain('+44 20 7946 0555');
    const last = (await auditEventsFor(db.admin, dana.orgId)).at(-1)!;
    expect(last).toMatchObject({ actor_sub: 'dana', actor_name: dana.name, actor_roles: ['customer'], via: 'portal' });
    expect((last.changes as { field: string }[]).map((c) => c.field)).toEqual(['contactName', 'contactEmail', 'contactPhone']);
  });

  it('shows field errors for what the contract refuses, changing nothing', async () => {
    const v = new Visitor();
    const home = await v.signIn(dana);
    const before = (await auditEventsFor(db.admin, dana.orgId)).length;
    const page = await v.submit(home, '/contact', { contactEmail: 'not an email' });
    expect(page.status).toBe(400);
    expect(page.html).toContain('Enter a valid email address');
    expect(page.html).toContain('aria-invalid="true"');
    expect(await auditEventsFor(db.admin, dana.orgId)).toHaveLength(before);
  });

  it('replaces the card with what the stand-in processor posts: token, brand, last four, expiry', async () => {
    const v = new Visitor();
    await v.signIn(dana);
    const card = await v.go(`${portal.url}/card`);
    expect(card.html).toContain('Demo stand-in for the payment processor');
    // The card fields have no name: a browser without the script posts nothing of them.
    expect(card.html).not.toMatch(/<input[^>]*name="(cardNumber|number|cvc)"/);
    const done = await v.submit(card, '/card', { processorToken: 'tok_demo_portalTestToken01', brand: 'mastercard', last4: '4444', expMonth: '12', expYear: '2031' });
    expect(done.html).toContain('Your card was replaced.');
    expect(decodeHtml(done.html)).toContain('Mastercard ending 4444, expires 12/2031');
    const { rows } = await db.admin.query('SELECT brand, last4 FROM core.billing_methods WHERE org_id = $1', [dana.orgId]);
    expect(rows).toEqual([{ brand: 'mastercard', last4: '4444' }]);
  });

  it('refuses a form holding a card number before it reaches the API', async () => {
    const v = new Visitor();
    const home = await v.signIn(dana);
    const before = (await auditEventsFor(db.admin, dana.orgId)).length;
    const page = await v.submit(home, '/contact', { contactPhone: '4111 1111 1111 1111' });
    expect(page.status).toBe(400);
    expect(page.html).toContain('looks like a card number');
    expect(page.html).not.toContain('4111');
    expect(await auditEventsFor(db.admin, dana.orgId)).toHaveLength(before);
  });

  it('refuses a post without the session\'s form token', async () => {
    const v = new Visitor();
    const home = await v.signIn(dana);
    expect(csrfOf(home)).not.toBe('');
    const page = await v.go(`${portal.url}/contact`, { csrf: 'forged', contactPhone: '+1 555 0199' });
    expect(page.status).toBe(403);
  });

  it('turns a staff account away with a message, without a token for the API', async () => {
    const v = new Visitor();
    const page = await v.signIn(alice);
    expect(page.status).toBe(403);
    expect(page.html).toContain('not a customer account');
  });
});
