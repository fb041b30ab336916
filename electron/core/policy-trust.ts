// A policy file is only IT's if nobody else can have written it: it and every folder above it
// must belong to root (macOS: root, group admin allowed; Windows: Administrators, SYSTEM or
// TrustedInstaller) and be writable by nobody else. Otherwise a user could put their own identity
// provider or API in the file, or replace the file through its folder.
import { realpathSync, statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { POWERSHELL_EXE, type PolicyOs } from './policy-sources';

export class UntrustedPolicyError extends Error {
  override name = 'UntrustedPolicyError';
}

const GUIDE = "see the administrator's guide, \"Permissions of the policy folder\"";

/** Groups besides root's that may write on this OS (macOS: admin, which owns /Library/Application Support). */
const TRUSTED_GROUPS: Partial<Record<NodeJS.Platform, number[]>> = { darwin: [0, 80], linux: [0] };

/** Refuses a POSIX policy file (or a folder above it) that a user other than root could write or replace. */
export function checkPosixPolicyTrust(path: string, platform: NodeJS.Platform = process.platform, stat: (p: string) => Stats = statSync): void {
  const real = realpathSync(path);
  const groups = TRUSTED_GROUPS[platform] ?? [0];
  const problems: string[] = [];
  const check = (p: string, what: string) => {
    const st = stat(p);
    const sticky = st.isDirectory() && (st.mode & 0o1000) !== 0;
    if (st.uid !== 0) problems.push(`${what} ${p} is owned by uid ${st.uid}, not root`);
    if ((st.mode & 0o002) !== 0 && !sticky) problems.push(`${what} ${p} can be written by every user (mode 0${(st.mode & 0o7777).toString(8)})`);
    if ((st.mode & 0o020) !== 0 && !groups.includes(st.gid) && !sticky) problems.push(`${what} ${p} can be written by group ${st.gid} (mode 0${(st.mode & 0o7777).toString(8)})`);
  };
  check(real, 'the file');
  for (let dir = dirname(real); ; dir = dirname(dir)) {
    check(dir, 'its folder');
    if (dirname(dir) === dir) break;
  }
  if (problems.length) {
    throw new UntrustedPolicyError(`The policy file ${path} is refused: ${problems.join('; ')}. Only root may own and write it and its folders (${GUIDE}).`);
  }
}

// Well-known SIDs that may own and write machine policy: SYSTEM, BUILTIN\Administrators, TrustedInstaller.
const TRUSTED_SIDS = new Set(['S-1-5-18', 'S-1-5-32-544', 'S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464']);
// CREATOR OWNER and CREATOR GROUP grant nothing on the object itself (only to what is created under it).
const INHERIT_ONLY_SIDS = new Set(['S-1-3-0', 'S-1-3-1']);
// FileSystemRights that let a holder change a file or what a folder holds: WriteData/AddFile (0x2),
// AppendData/AddSubdirectory (0x4), WriteExtendedAttributes (0x10), DeleteChild (0x40), WriteAttributes
// (0x100), Delete (0x10000), ChangePermissions (0x40000), TakeOwnership (0x80000), GENERIC_ALL and GENERIC_WRITE.
const FILE_WRITE = 0x2 | 0x4 | 0x10 | 0x100 | 0x10000 | 0x40000 | 0x80000 | 0x10000000 | 0x40000000;
// On the folder, adding a file (0x2) is harmless (ProgramData lets Users create their own files, owned by them
// and so refused above); replacing ours needs DeleteChild, or rights over the folder itself.
const FOLDER_WRITE = 0x40 | 0x10000 | 0x40000 | 0x80000 | 0x10000000;

export interface WindowsAcl {
  owner: string;
  rules: { sid: string; allow: boolean; rights: number }[];
}

/** Refuses a policy file (or its folder) that someone other than the administrators owns or may change. */
export function evaluateWindowsAcl(path: string, file: WindowsAcl, folder: WindowsAcl): void {
  const problems: string[] = [];
  const look = (what: string, acl: WindowsAcl, rightsMask: number) => {
    if (!TRUSTED_SIDS.has(acl.owner)) problems.push(`${what} is owned by ${acl.owner}, not Administrators or SYSTEM`);
    for (const rule of acl.rules) {
      if (!rule.allow || TRUSTED_SIDS.has(rule.sid) || INHERIT_ONLY_SIDS.has(rule.sid)) continue;
      if ((rule.rights & rightsMask) !== 0) problems.push(`${what} can be changed by ${rule.sid} (rights 0x${rule.rights.toString(16)})`);
    }
  };
  look('the file', file, FILE_WRITE);
  look('its folder', folder, FOLDER_WRITE);
  if (problems.length) {
    throw new UntrustedPolicyError(`The policy file ${path} is refused: ${[...new Set(problems)].join('; ')}. Only Administrators and SYSTEM may own and change it and its folder (${GUIDE}).`);
  }
}

/** Reads an object's owner and access rules as SIDs with PowerShell's Get-Acl (the path is passed as data, not code). */
export async function readWindowsAcl(os: PolicyOs, path: string): Promise<WindowsAcl> {
  const script =
    '$a = Get-Acl -LiteralPath $args[0]; ' +
    '$s = [Security.Principal.SecurityIdentifier]; ' +
    '@{ owner = $a.GetOwner($s).Value; rules = @($a.GetAccessRules($true, $true, $s) | ForEach-Object { @{ sid = $_.IdentityReference.Value; allow = ($_.AccessControlType -eq 0); rights = [int64]$_.FileSystemRights } }) } | ConvertTo-Json -Compress -Depth 4';
  const result = await os.run(POWERSHELL_EXE, ['-NoProfile', '-NonInteractive', '-Command', `& { ${script} }`, path]);
  if (result.code !== 0) throw new UntrustedPolicyError(`The permissions of ${path} cannot be read: ${result.stderr.trim() || `exit ${result.code}`}`);
  const parsed = JSON.parse(result.stdout) as { owner: string; rules: { sid: string; allow: boolean; rights: number }[] | { sid: string; allow: boolean; rights: number } };
  return { owner: parsed.owner, rules: Array.isArray(parsed.rules) ? parsed.rules : [parsed.rules] };
}

export async function checkWindowsPolicyTrust(os: PolicyOs, path: string): Promise<void> {
  const folder = path.replace(/\\[^\\]+$/, '');
  const [fileAcl, folderAcl] = await Promise.all([readWindowsAcl(os, path), readWindowsAcl(os, folder)]);
  evaluateWindowsAcl(path, fileAcl, folderAcl);
}
