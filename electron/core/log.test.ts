import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRotatingLog, redact, redactFields } from './log';

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
