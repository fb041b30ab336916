import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Policy } from '../../shared/config';
import type { LogSink } from './deps';
import { createHandlers, type CimsCore } from './handlers';
import { createRotatingLog, exportFailureMessage, redact, redactFields } from './log';

const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlc2lnbmF0dXJl';

describe('redaction', () => {
  it('removes tokens, codes and email addresses', () => {
    const line = redact(`GET /callback?code=abc123&state=xyz Bearer ${jwt} for ada@example.com opaque ${'A'.repeat(40)}`);
    expect(line).not.toContain('abc123');
    expect(line).not.toContain('xyz');
    expect(line).not.toContain('eyJ');
    expect(line).not.toContain('ada@example.com');
    expect(line).not.toContain('A'.repeat(40));
  });

  it('drops values of sensitive field names whatever they hold', () => {
    expect(redactFields({ refreshToken: 'short', contactEmail: 'x', status: 200, route: 'customers.get' })).toEqual({
      refreshToken: '[redacted]',
      contactEmail: '[redacted]',
      status: 200,
      route: 'customers.get',
    });
  });
});

describe('rotating log', () => {
  it('caps file size, keeps a few files, and exports them oldest first', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cims-log-'));
    const log = createRotatingLog({ dir, maxBytes: 400, files: 3 });
    for (let i = 0; i < 40; i++) log.write('info', 'api.call', { n: i, token: jwt });
    const files = log.files();
    expect(files).toHaveLength(3);
    for (const f of files) expect(statSync(f).size).toBeLessThanOrEqual(400);
    const out = join(dir, 'export.log');
    log.exportTo(out);
    const text = readFileSync(out, 'utf8');
    expect(text).toContain('"n":39');
    expect(text).not.toContain('"n":0,');
    expect(text).not.toContain('eyJ');
    const ns = [...text.matchAll(/"n":(\d+)/g)].map((m) => Number(m[1]));
    expect(ns).toEqual([...ns].sort((a, b) => a - b));
  });
});

describe('diagnostics:exportLogs', () => {
  // The whole channel through createHandlers; the file system is real (a temporary folder).
  const policy = Policy.parse({ issuer: 'http://127.0.0.1:9', clientId: 'cims-console', apiBaseUrl: 'http://127.0.0.1:9', apiAudience: 'urn:cims:api' });
  const cores: CimsCore[] = [];
  afterEach(() => cores.splice(0).forEach((c) => c.dispose()));

  function coreSavingTo(target: string | null, log: LogSink & { exportTo?: (path: string) => void }) {
    const core = createHandlers({
      policy,
      fetch: () => Promise.reject(new TypeError('fetch failed')),
      openExternal: async () => {},
      secrets: { get: async () => null, set: async () => {}, delete: async () => false },
      chooseSavePath: async () => target,
      log,
    });
    cores.push(core);
    return core;
  }

  it('answers with the saved path on success, and with no path (not an error) when the dialog is cancelled', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cims-export-'));
    const log = createRotatingLog({ dir: join(dir, 'logs') });
    log.write('info', 'app.start', {});
    const target = join(dir, 'export.log');
    expect(await coreSavingTo(target, log).invoke('diagnostics:exportLogs', {})).toEqual({ ok: true, data: { path: target } });
    expect(readFileSync(target, 'utf8')).toContain('app.start');
    expect(await coreSavingTo(null, log).invoke('diagnostics:exportLogs', {})).toEqual({ ok: true, data: { path: null } });
  });

  it('turns a failed write into an IpcError that says why, logs it, and leaves no partial file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cims-export-'));
    const log = createRotatingLog({ dir: join(dir, 'logs') });
    log.write('info', 'app.start', {});
    const target = join(dir, 'no-such-folder', 'export.log');
    const result = await coreSavingTo(target, log).invoke('diagnostics:exportLogs', {});
    expect(result).toEqual({ ok: false, error: { code: 'internal', message: expect.stringMatching(/could not be saved: the folder does not exist/) } });
    expect(existsSync(target)).toBe(false);
    expect(readFileSync(join(dir, 'logs', 'cims-console.log'), 'utf8')).toContain('"event":"diagnostics.export.failed","error":"ENOENT"');
  });
});

describe('exportFailureMessage', () => {
  it('names the reason a person can act on', () => {
    const err = (code: string) => Object.assign(new Error('x'), { code });
    expect(exportFailureMessage(err('EACCES'))).toMatch(/no permission to write there/);
    expect(exportFailureMessage(err('EPERM'))).toMatch(/no permission to write there/);
    expect(exportFailureMessage(err('ENOSPC'))).toMatch(/disk is full/);
    expect(exportFailureMessage(err('EROFS'))).toMatch(/read-only/);
    expect(exportFailureMessage(new Error('boom'))).toMatch(/could not be saved/);
    expect(exportFailureMessage(new Error('boom'))).not.toContain('boom');
  });
});
