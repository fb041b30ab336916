import keytar from 'keytar';
import { SIGN_IN_AFTER_RESTART_MESSAGE } from '../../electron/core/session';
import { dpopKey, dpopProof } from '../../testing/issuer';
import { expect, test } from '../support/fixtures';
import { customerOf, openCustomer } from './support';

/** The console's API requests as they crossed the relay: request line and headers, lower-cased names. */
function requestsOn(wire: string): { method: string; path: string; headers: Record<string, string> }[] {
  return wire
    .split('\r\n\r\n')
    .map((block) => block.slice(block.search(/(GET|POST|PATCH|PUT|DELETE) \//)))
    .filter((block) => /^(GET|POST|PATCH|PUT|DELETE) \//.test(block))
    .map((block) => {
      const [line = '', ...rest] = block.split('\r\n');
      const [method = '', path = ''] = line.split(' ');
      const headers = Object.fromEntries(rest.map((h) => [h.slice(0, h.indexOf(':')).toLowerCase(), h.slice(h.indexOf(':') + 1).trim()]));
      return { method, path, headers };
    });
}

test('a token copied off the wire is refused without the console\'s key, while the console goes on working', async ({ openConsole, stack }) => {
  const customer = await customerOf(stack, 'alice');
  let wire = '';
  const untap = stack.relay.tap((chunk) => (wire += chunk.toString('latin1')));
  const app = await openConsole();
  await app.signIn(stack.account('alice'));
  await expect(app.page.getByRole('heading', { name: /portfolio/i })).toBeVisible();
  untap();

  const sent = requestsOn(wire).filter((r) => r.method === 'GET' && r.headers.authorization?.startsWith('DPoP '));
  expect(sent.length, 'the console sent its API calls with DPoP-bound tokens').toBeGreaterThan(0);
  for (const r of sent) expect(r.headers.dpop).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  const captured = sent.at(-1)!;
  const token = captured.headers.authorization!.slice('DPoP '.length);
  const url = `${stack.relay.url}${captured.path}`;
  const replay = async (headers: Record<string, string>, to = url, method = 'GET') => {
    const res = await fetch(to, { method, headers });
    await res.arrayBuffer(); // read to the end, so the connection does not hold the stack's shutdown
    return { status: res.status, challenge: res.headers.get('www-authenticate') ?? '' };
  };

  // Twice with one proof: the same request again, byte for byte.
  expect(await replay({ authorization: `DPoP ${token}`, dpop: captured.headers.dpop! })).toEqual({
    status: 401,
    challenge: expect.stringMatching(/^DPoP .*error="invalid_dpop_proof", error_description="The DPoP proof has already been used\."/),
  });
  // Without the key: as a bearer token, or with no proof.
  expect(await replay({ authorization: `Bearer ${token}` })).toMatchObject({ status: 401, challenge: expect.stringMatching(/^DPoP .*error="invalid_token"/) });
  expect(await replay({ authorization: `DPoP ${token}` })).toMatchObject({ status: 401, challenge: expect.stringMatching(/^DPoP .*error="invalid_dpop_proof"/) });
  // With a key of the attacker's own, for exactly this request.
  const own = await dpopKey();
  const forged = await dpopProof(own, { htm: 'GET', htu: url.split('?')[0]!, accessToken: token });
  expect(await replay({ authorization: `DPoP ${token}`, dpop: forged })).toMatchObject({ status: 401, challenge: expect.stringMatching(/^DPoP .*error="invalid_token"/) });
  // The captured proof for another URL or method.
  const other = await replay({ authorization: `DPoP ${token}`, dpop: captured.headers.dpop! }, `${stack.relay.url}/v1/audit/events`);
  expect(other.status).toBe(401);
  const write = await replay({ authorization: `DPoP ${token}`, dpop: captured.headers.dpop!, 'content-type': 'application/json' }, `${stack.relay.url}/v1/customers`, 'POST');
  expect(write.status).toBe(401);

  // Nothing of this touched the console: it reads and edits as before.
  await openCustomer(app.page, customer.orgId);
  await expect(app.page.getByRole('heading', { name: customer.orgName })).toBeVisible();
});

test('after a restart the console says in one line to sign in again, and the saved sign-in is gone', async ({ openConsole, stack }) => {
  const service = `CIMS Console e2e dpop restart ${process.pid}`;
  try {
    const first = await openConsole({ keychainService: service });
    await first.signIn(stack.account('alice'));
    await first.close();

    const second = await openConsole({ keychainService: service });
    await second.waitForStatus('signedOut');
    const notice = second.page.getByText(SIGN_IN_AFTER_RESTART_MESSAGE);
    await expect(notice).toBeVisible();
    await second.screenshot('16-dpop-sign-in-again-light');
    await second.page.emulateMedia({ colorScheme: 'dark' });
    await second.screenshot('16-dpop-sign-in-again-dark');
    await expect.poll(async () => (await keytar.findCredentials(service)).length).toBe(0);

    await second.signIn(stack.account('alice'));
    await expect(second.page.getByRole('heading', { name: /portfolio/i })).toBeVisible();
  } finally {
    for (const c of await keytar.findCredentials(service)) await keytar.deletePassword(service, c.account);
  }
});
