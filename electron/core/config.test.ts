import { describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, policyPathFor } from './config';
import type { PolicyOs } from './policy-sources';

const dir = mkdtempSync(join(tmpdir(), 'cims-config-'));
const missing = join(dir, 'absent.json');
const env = {
  CIMS_ISSUER: 'http://127.0.0.1:4800',
  CIMS_API_BASE_URL: 'http://127.0.0.1:4801',
  CIMS_INACTIVITY_MINUTES: '5',
};

function policyFile(content: unknown): string {
  const path = join(dir, `${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

describe('policy path', () => {
  it('takes the Windows folder from the ProgramData known folder, and uses the fixed paths elsewhere', async () => {
    // Stand-in for PowerShell at the OS edge; the environment's ProgramData is not consulted at all.
    const calls: string[][] = [];
    const os: PolicyOs = { run: async (file, args) => (calls.push([file, ...args]), { code: 0, stdout: 'D:\\PD\r\n', stderr: '' }) };
    expect(await policyPathFor('win32', os)).toBe('D:\\PD\\CIMS Console\\policy.json');
    expect(calls[0]![0]).toBe('C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe');
    expect(calls[0]!.at(-1)).toContain("GetFolderPath('CommonApplicationData')");
    const broken: PolicyOs = { run: async () => ({ code: 1, stdout: '', stderr: 'denied' }) };
    await expect(policyPathFor('win32', broken)).rejects.toThrow(/ProgramData folder cannot be found.*denied/);
    expect(await policyPathFor('linux')).toBe('/etc/cims-console/policy.json');
    expect(await policyPathFor('darwin')).toBe('/Library/Application Support/CIMS Console/policy.json');
  });
});

describe('loadConfig', () => {
  it('takes development values from the environment when there is no policy file', async () => {
    const { policy, source } = await loadConfig({ policyPath: missing, env, packaged: false });
    expect(source).toEqual({ kind: 'environment' });
    expect(policy).toMatchObject({
      issuer: 'http://127.0.0.1:4800',
      clientId: 'cims-console',
      apiAudience: 'urn:cims:api',
      inactivityTimeoutMinutes: 5,
    });
  });

  it('refuses to start an installed console without a policy file, naming the expected path', async () => {
    const attempt = loadConfig({ policyPath: missing, env, packaged: true });
    await expect(attempt).rejects.toThrow(ConfigError);
    await expect(attempt).rejects.toThrow(missing);
  });

  it('lets the policy file override the environment entirely', async () => {
    const path = policyFile({ issuer: 'https://idp.example.com', clientId: 'console', apiBaseUrl: 'https://api.example.com', apiAudience: 'urn:x' });
    const { policy, source } = await loadConfig({ policyPath: path, env, packaged: false });
    expect(source).toEqual({ kind: 'policy', path });
    expect(policy.issuer).toBe('https://idp.example.com');
    expect(policy.inactivityTimeoutMinutes).toBe(15);
  });

  it('refuses a bad policy with a message naming the file and the field', async () => {
    const path = policyFile({ issuer: 'http://idp.example.com', clientId: 'c', apiBaseUrl: 'https://api.example.com', apiAudience: 'a' });
    const error = await loadConfig({ policyPath: path, env, packaged: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toContain('field "issuer"');
  });

  it('refuses unknown fields and broken JSON, never falling back to defaults', async () => {
    const extra = policyFile({ issuer: 'https://i.example.com', clientId: 'c', apiBaseUrl: 'https://a.example.com', apiAudience: 'a', debug: true });
    await expect(loadConfig({ policyPath: extra, env, packaged: false })).rejects.toThrow(/is not valid/);
    const broken = policyFile('{ "issuer": ');
    await expect(loadConfig({ policyPath: broken, env, packaged: false })).rejects.toThrow(new RegExp(`${broken}.*not valid JSON`));
  });

  describe('packaged builds refuse plain http, even on loopback', () => {
    const local = { issuer: 'http://127.0.0.1:4800', clientId: 'c', apiBaseUrl: 'https://api.example.com', apiAudience: 'a' };
    it.each([
      ['the issuer', local, 'issuer'],
      ['the API', { ...local, issuer: 'https://idp.example.com', apiBaseUrl: 'http://localhost:4801' }, 'apiBaseUrl'],
      ['the API on [::1]', { ...local, issuer: 'https://idp.example.com', apiBaseUrl: 'http://[::1]:4801' }, 'apiBaseUrl'],
    ])('%s', async (_name, content, field) => {
      const path = policyFile(content);
      const error = await loadConfig({ policyPath: path, env, packaged: true }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain(path);
      expect((error as Error).message).toContain(`field "${field}"`);
      expect((error as Error).message).toMatch(/https/);
    });

    it('while a development build takes the same loopback policy and the local stack from the environment', async () => {
      const path = policyFile(local);
      await expect(loadConfig({ policyPath: path, env, packaged: false })).resolves.toMatchObject({ policy: { issuer: local.issuer } });
      await expect(loadConfig({ policyPath: missing, env, packaged: false })).resolves.toMatchObject({ source: { kind: 'environment' } });
    });

    it('and accepts https everywhere', async () => {
      const path = policyFile({ ...local, issuer: 'https://idp.example.com' });
      await expect(loadConfig({ policyPath: path, env, packaged: true })).resolves.toMatchObject({ source: { kind: 'policy', path } });
    });
  });

  it('says which development value is missing', async () => {
    await expect(loadConfig({ policyPath: missing, env: {}, packaged: false })).rejects.toThrow(/environment.*field "issuer"/);
  });

  it('takes audit public keys from the policy, and PEM text from CIMS_AUDIT_PUBLIC_KEYS_PEM in development', async () => {
    const pem = () => generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const [a, b] = [pem(), pem()];
    const fromFile = await loadConfig({ policyPath: policyFile({ issuer: 'https://id.example.com', clientId: 'c', apiBaseUrl: 'https://api.example.com', apiAudience: 'urn:cims:api', auditPublicKeys: [a] }), packaged: true });
    expect(fromFile.policy.auditPublicKeys).toEqual([a]);
    const fromEnv = await loadConfig({ policyPath: missing, env: { ...env, CIMS_AUDIT_PUBLIC_KEYS_PEM: `${a}${b}` }, packaged: false });
    expect(fromEnv.policy.auditPublicKeys).toEqual([a, b]);
    expect((await loadConfig({ policyPath: missing, env, packaged: false })).policy.auditPublicKeys).toEqual([]);
    await expect(loadConfig({ policyPath: missing, env: { ...env, CIMS_AUDIT_PUBLIC_KEYS_PEM: '/etc/cims-api/keys.pem' }, packaged: false })).rejects.toThrow(/field "auditPublicKeys.0"/);
  });
});
