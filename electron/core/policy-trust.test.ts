// Ownership and write permissions of the policy file, with real files: the tests run as root
// (CI does), so they can hand a file or folder to another uid with chown. Windows ACLs are
// evaluated from what Get-Acl reports (samples below: there is no Windows machine here).
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from './config';
import { UntrustedPolicyError, checkPosixPolicyTrust, evaluateWindowsAcl, type WindowsAcl } from './policy-trust';

const isRoot = process.getuid?.() === 0;
const root = mkdtempSync(join(tmpdir(), 'cims-policy-trust-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const GOOD = { issuer: 'https://login.example.com', clientId: 'cims-console', apiBaseUrl: 'https://api.example.com', apiAudience: 'urn:cims:api' };

let folder: string;
let file: string;
beforeEach(() => {
  folder = mkdtempSync(join(root, 'etc-'));
  chmodSync(folder, 0o755);
  file = join(folder, 'policy.json');
  writeFileSync(file, JSON.stringify(GOOD), { mode: 0o644 });
  chmodSync(file, 0o644);
});

describe.runIf(isRoot)('a POSIX policy file', () => {
  it('owned by root and writable by root only, in root-owned folders, is accepted', async () => {
    expect(() => checkPosixPolicyTrust(file, 'linux')).not.toThrow();
    await expect(loadConfig({ policyPath: file, checkOwnership: true, packaged: true })).resolves.toMatchObject({ source: { kind: 'policy', path: file } });
  });

  it('owned by another user is refused, naming the owner and the guide', async () => {
    chownSync(file, 1234, 0);
    expect(() => checkPosixPolicyTrust(file, 'linux')).toThrow(UntrustedPolicyError);
    const error = (await loadConfig({ policyPath: file, checkOwnership: true, packaged: true }).catch((e: unknown) => e)) as Error;
    expect(error.name).toBe('ConfigError');
    expect(error.message).toContain(`The policy file ${file} is refused: the file ${file} is owned by uid 1234, not root`);
    expect(error.message).toContain("administrator's guide");
  });

  it('that every user may write is refused', () => {
    chmodSync(file, 0o666);
    expect(() => checkPosixPolicyTrust(file, 'linux')).toThrow(/can be written by every user \(mode 0666\)/);
  });

  it('that a group other than root may write is refused (macOS allows its admin group)', () => {
    chownSync(file, 0, 80);
    chmodSync(file, 0o664);
    expect(() => checkPosixPolicyTrust(file, 'linux')).toThrow(/can be written by group 80/);
    expect(() => checkPosixPolicyTrust(file, 'darwin')).not.toThrow();
  });

  it('in a folder another user owns, or that every user may write, is refused: the file could be replaced', () => {
    chownSync(folder, 1234, 1234);
    expect(() => checkPosixPolicyTrust(file, 'linux')).toThrow(new RegExp(`its folder ${folder} is owned by uid 1234`));
    chownSync(folder, 0, 0);
    chmodSync(folder, 0o777);
    expect(() => checkPosixPolicyTrust(file, 'linux')).toThrow(/its folder .* can be written by every user \(mode 0777\)/);
    // A sticky world-writable folder (like /tmp) lets nobody replace a file they do not own.
    chmodSync(folder, 0o1777);
    expect(() => checkPosixPolicyTrust(file, 'linux')).not.toThrow();
  });

  it('reached through a symbolic link is judged where it really lives', () => {
    const elsewhere = mkdtempSync(join(root, 'user-'));
    chownSync(elsewhere, 1234, 1234);
    const target = join(elsewhere, 'policy.json');
    writeFileSync(target, JSON.stringify(GOOD));
    chownSync(target, 1234, 1234);
    const link = join(folder, 'linked.json');
    symlinkSync(target, link);
    expect(() => checkPosixPolicyTrust(link, 'linux')).toThrow(/owned by uid 1234/);
  });

  it('is not checked for a test path unless asked (development builds and tests pass their own files)', async () => {
    const dir = join(root, 'open');
    mkdirSync(dir, { mode: 0o777 });
    chmodSync(dir, 0o777);
    const loose = join(dir, 'policy.json');
    writeFileSync(loose, JSON.stringify(GOOD));
    await expect(loadConfig({ policyPath: loose, packaged: false })).resolves.toMatchObject({ source: { kind: 'policy' } });
    await expect(loadConfig({ policyPath: loose, checkOwnership: true, packaged: false })).rejects.toThrow(/can be written by every user/);
  });
});

describe('a Windows policy file', () => {
  const SYSTEM = 'S-1-5-18';
  const ADMINS = 'S-1-5-32-544';
  const USERS = 'S-1-5-32-545';
  const AUTHENTICATED = 'S-1-5-11';
  const ALICE = 'S-1-5-21-1004336348-1177238915-682003330-1001';
  const READ_EXECUTE = 0x1200a9;
  const FULL = 0x1f01ff;
  const MODIFY = 0x1301bf;
  // What IT's folder looks like after the guide's icacls commands: inheritance off, Administrators and SYSTEM full, Users read.
  const folderAcl: WindowsAcl = {
    owner: ADMINS,
    rules: [
      { sid: SYSTEM, allow: true, rights: FULL },
      { sid: ADMINS, allow: true, rights: FULL },
      { sid: USERS, allow: true, rights: READ_EXECUTE },
    ],
  };
  const fileAcl: WindowsAcl = { owner: ADMINS, rules: folderAcl.rules };
  const path = String.raw`C:\ProgramData\CIMS Console\policy.json`;

  it('owned by Administrators, changed by Administrators and SYSTEM only, is accepted', () => {
    expect(() => evaluateWindowsAcl(path, fileAcl, folderAcl)).not.toThrow();
    // ProgramData's inherited "Users may create files" and CREATOR OWNER entries do not let anyone change ours.
    const inherited = { ...folderAcl, rules: [...folderAcl.rules, { sid: USERS, allow: true, rights: 0x2 | 0x4 }, { sid: 'S-1-3-0', allow: true, rights: 0x10000000 }] };
    expect(() => evaluateWindowsAcl(path, fileAcl, inherited)).not.toThrow();
  });

  it('created by a user (so owned by them) is refused', () => {
    expect(() => evaluateWindowsAcl(path, { ...fileAcl, owner: ALICE }, folderAcl)).toThrow(`the file is owned by ${ALICE}, not Administrators or SYSTEM`);
  });

  it('that Users or Authenticated Users may modify is refused', () => {
    expect(() => evaluateWindowsAcl(path, { ...fileAcl, rules: [...fileAcl.rules, { sid: USERS, allow: true, rights: MODIFY }] }, folderAcl)).toThrow(
      /the file can be changed by S-1-5-32-545/,
    );
    expect(() => evaluateWindowsAcl(path, fileAcl, { ...folderAcl, rules: [...folderAcl.rules, { sid: AUTHENTICATED, allow: true, rights: MODIFY }] })).toThrow(
      /its folder can be changed by S-1-5-11/,
    );
    // A deny entry takes nothing away from the check.
    expect(() => evaluateWindowsAcl(path, { ...fileAcl, rules: [...fileAcl.rules, { sid: USERS, allow: false, rights: MODIFY }] }, folderAcl)).not.toThrow();
  });
});
