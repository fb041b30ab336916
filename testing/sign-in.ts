// The console's sign-in as a person makes it: the authorization URL the core
// opened, in a real browser tab (Chromium through Playwright), the local
// provider's login form filled in and submitted, until the provider redirects
// to the core's loopback callback (RFC 8252 7.3). The one place that knows the
// login page's fields; the HTTP-level flows of the provider tests are in browser.ts.
import type { Browser, Page } from '@playwright/test';

/** The provider's login form (devstack/src/idp/pages.ts). */
export const LOGIN_FORM = { username: 'input[name=username]', password: 'input[name=password]', submit: 'button[type=submit]' } as const;

export interface Credentials {
  username: string;
  password: string;
}

const isLoopbackCallback = (url: URL) => url.hostname === '127.0.0.1' && url.pathname === '/callback';

/** Opens `url` in `page`, signs in, and returns the text of the callback page the core answers with. */
export async function signInOnPage(page: Page, url: string, who: Credentials): Promise<string> {
  await page.goto(url);
  await page.fill(LOGIN_FORM.username, who.username);
  await page.fill(LOGIN_FORM.password, who.password);
  await Promise.all([page.waitForURL(isLoopbackCallback), page.click(LOGIN_FORM.submit)]);
  return (await page.textContent('body')) ?? '';
}

/** The same in a fresh browser profile (no provider session from an earlier sign-in). */
export async function signInInBrowser(browser: Browser, url: string, who: Credentials): Promise<string> {
  const context = await browser.newContext();
  try {
    return await signInOnPage(await context.newPage(), url, who);
  } finally {
    await context.close();
  }
}
