import { describe, expect, it } from 'vitest';
import { LoopbackError, startLoopbackListener } from './loopback';

describe('loopback listener', () => {
  it('binds 127.0.0.1 on an OS-assigned port and answers only GET /callback', async () => {
    const l = await startLoopbackListener({ expectedState: 's1', timeoutMs: 10_000 });
    expect(l.redirectUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    const base = new URL(l.redirectUri);
    expect((await fetch(new URL('/favicon.ico', base))).status).toBe(404);
    expect((await fetch(l.redirectUri + '?state=s1&code=c', { method: 'POST' })).status).toBe(404);
    const ok = await fetch(l.redirectUri + '?state=s1&code=c');
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('You are signed in');
    const url = await l.callback;
    expect(url.searchParams.get('code')).toBe('c');
    await expect(fetch(l.redirectUri + '?state=s1&code=again')).rejects.toThrow();
  });

  it('answers a callback with the wrong state, ignores it and keeps waiting for the real one', async () => {
    const l = await startLoopbackListener({ expectedState: 'right', timeoutMs: 10_000 });
    let settled = false;
    l.callback.then(() => (settled = true), () => (settled = true));
    for (const query of ['?state=wrong&code=c', '?code=c', '?state=wrong&error=access_denied', '?state=&code=c']) {
      const res = await fetch(l.redirectUri + query);
      expect(res.status).toBe(400);
      expect(await res.text()).toContain('was ignored');
    }
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(false);
    const ok = await fetch(l.redirectUri + '?state=right&code=real');
    expect(ok.status).toBe(200);
    expect((await l.callback).searchParams.get('code')).toBe('real');
  });

  it('still times out when only callbacks with the wrong state arrive', async () => {
    const l = await startLoopbackListener({ expectedState: 'right', timeoutMs: 300 });
    expect((await fetch(l.redirectUri + '?state=wrong&code=c')).status).toBe(400);
    await expect(l.callback).rejects.toMatchObject({ reason: 'timeout' });
    await expect(fetch(l.redirectUri + '?state=right&code=c')).rejects.toThrow();
  });

  it('reports a provider error such as access_denied', async () => {
    const l = await startLoopbackListener({ expectedState: 's', timeoutMs: 10_000 });
    await fetch(l.redirectUri + '?state=s&error=access_denied');
    await expect(l.callback).rejects.toMatchObject({ reason: 'provider_error', oauthError: 'access_denied' });
  });

  it('times out and can be cancelled, closing the port', async () => {
    const t = await startLoopbackListener({ expectedState: 's', timeoutMs: 50 });
    const error = await t.callback.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LoopbackError);
    expect((error as LoopbackError).reason).toBe('timeout');
    await expect(fetch(t.redirectUri + '?state=s&code=c')).rejects.toThrow();
    const c = await startLoopbackListener({ expectedState: 's', timeoutMs: 10_000 });
    c.cancel();
    await expect(c.callback).rejects.toMatchObject({ reason: 'cancelled' });
  });
});
