// The import zones in eslint.config.js, proved one by one: each forbidden arrow,
// written as a file in the place it is forbidden, must be reported, and the
// allowed neighbour beside it must not be. The files exist only as text here.
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const BOUNDARY_RULES = new Set(['boundaries/zones', 'boundaries/features', 'boundaries/electron-in-shell-only', 'no-restricted-imports']);
const eslint = new ESLint({ cwd: new URL('..', import.meta.url).pathname });

/** The boundary rules that fire on `code` as if it were the file at `filePath` (relative to the repository). */
async function boundaryReports(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  if (!result) throw new Error(`${filePath} was not linted`);
  // A probe that does not parse would report nothing and pass: refuse it.
  const fatal = result.messages.find((m) => m.fatal);
  if (fatal) throw new Error(`${filePath}: ${fatal.message}`);
  return result.messages.filter((m) => m.ruleId && BOUNDARY_RULES.has(m.ruleId)).map((m) => m.ruleId!);
}

const importing = (spec: string, name = 'thing') => `import { ${name} } from '${spec}';\nexport const used_${name} = ${name};\n`;

describe('renderer: features stay apart, the app composes them', () => {
  it('reports a feature importing another feature, by any relative path and by import()', async () => {
    expect(await boundaryReports('renderer/features/customers/list/Probe.tsx', importing('../../audit/api'))).toEqual(['boundaries/features']);
    expect(await boundaryReports('renderer/features/audit/Probe.tsx', importing('../customers/api/queries'))).toEqual(['boundaries/features']);
    expect(await boundaryReports('renderer/features/session/Probe.tsx', `export const lazyAudit = () => import('../audit/AuditScreen');\n`)).toEqual([
      'boundaries/features',
    ]);
  });

  it('lets a feature import itself, ui/, bridge/ and shared/', async () => {
    const code = [
      importing('../api/queries', 'a'),
      importing('../../../ui/states', 'b'),
      importing('../../../bridge/client', 'c'),
      importing('../../../../shared/api', 'd'),
    ].join('');
    expect(await boundaryReports('renderer/features/customers/list/Probe.tsx', code)).toEqual([]);
  });

  it('reports ui/ or bridge/ importing a feature, and a feature importing the app', async () => {
    expect(await boundaryReports('renderer/ui/Probe.tsx', importing('../features/audit/api'))).toEqual(['boundaries/zones']);
    expect(await boundaryReports('renderer/bridge/probe.ts', importing('../app/routes'))).toEqual(['boundaries/zones']);
    expect(await boundaryReports('renderer/features/audit/Probe.tsx', importing('../../app/permissions'))).toEqual(['boundaries/zones']);
  });

  it('lets the app import features', async () => {
    expect(await boundaryReports('renderer/app/Probe.tsx', importing('../features/audit/AuditScreen'))).toEqual([]);
  });

  it('reports the renderer importing anything but shared/ and itself, Electron or Node', async () => {
    expect(await boundaryReports('renderer/app/Probe.tsx', importing('../../electron/core/log'))).toEqual(['boundaries/zones']);
    expect(await boundaryReports('renderer/app/Probe.tsx', importing('../../api/src/server'))).toEqual(['boundaries/zones']);
    expect(await boundaryReports('renderer/app/Probe.tsx', importing('node:fs', 'readFileSync'))).toEqual(['no-restricted-imports']);
    expect((await boundaryReports('renderer/app/Probe.tsx', importing('electron', 'ipcRenderer'))).sort()).toEqual([
      'boundaries/electron-in-shell-only',
      'no-restricted-imports',
    ]);
  });
});

describe('electron: only the shell imports it, IPC only in its wiring and the preload', () => {
  it('reports electron imported outside electron/shell', async () => {
    for (const file of ['electron/core/probe.ts', 'bench/probe.ts', 'build/probe.ts', 'scripts/probe.ts', 'e2e/specs/probe.spec.ts']) {
      expect(await boundaryReports(file, importing('electron', 'app')), file).toEqual(['boundaries/electron-in-shell-only']);
    }
  });

  it('lets electron/shell import electron', async () => {
    expect(await boundaryReports('electron/shell/window.ts', importing('electron', 'BrowserWindow'))).toEqual([]);
  });

  it('reports ipcMain or ipcRenderer anywhere in the shell but the IPC wiring and the preload', async () => {
    expect(await boundaryReports('electron/shell/window.ts', importing('electron', 'ipcMain'))).toEqual(['no-restricted-imports']);
    expect(await boundaryReports('electron/shell/security.ts', importing('electron', 'ipcRenderer'))).toEqual(['no-restricted-imports']);
    expect(await boundaryReports('electron/shell/window.ts', `import * as electron from 'electron';\nexport const e = electron;\n`)).toEqual([
      'no-restricted-imports',
    ]);
    expect(await boundaryReports('electron/shell/main.ts', importing('electron', 'ipcMain'))).toEqual([]);
    expect(await boundaryReports('electron/shell/preload.ts', importing('electron', 'ipcRenderer'))).toEqual([]);
  });

  it('keeps electron/core to shared/ and itself, and the shell away from renderer and server source', async () => {
    expect(await boundaryReports('electron/core/probe.ts', importing('../shell/security'))).toEqual(['boundaries/zones']);
    expect(await boundaryReports('electron/core/probe.ts', importing('../../shared/ipc'))).toEqual([]);
    expect(await boundaryReports('electron/shell/probe.ts', importing('../../renderer/app/App'))).toEqual(['boundaries/zones']);
    expect(await boundaryReports('electron/shell/probe.ts', importing('../core/handlers'))).toEqual([]);
  });
});

describe('e2e, bench, build, scripts and faults', () => {
  it('e2e reaches the renderer through the built app, never its source', async () => {
    expect(await boundaryReports('e2e/specs/probe.spec.ts', importing('../../renderer/app/App'))).toEqual(['boundaries/zones']);
    expect(await boundaryReports('e2e/support/probe.ts', importing('../../api/src/server'))).toEqual(['boundaries/zones']);
    expect(await boundaryReports('e2e/specs/probe.spec.ts', importing('../../shared/ipc'))).toEqual([]);
  });

  it('bench imports neither the desktop app nor the renderer', async () => {
    expect(await boundaryReports('bench/probe.ts', importing('../electron/core/handlers'))).toEqual(['boundaries/zones']);
    expect(await boundaryReports('bench/probe.ts', importing('../renderer/dev/demo'))).toEqual(['boundaries/zones']);
    expect(await boundaryReports('bench/probe.ts', importing('../testing/db'))).toEqual([]);
  });

  it('build and scripts import no renderer source; the screenshot script only its demo data', async () => {
    expect(await boundaryReports('build/probe.ts', importing('../renderer/ui/format'))).toEqual(['boundaries/zones']);
    expect(await boundaryReports('build/probe.ts', importing('../shared/config'))).toEqual([]);
    expect(await boundaryReports('scripts/probe.ts', importing('../renderer/dev/demo'))).toEqual(['boundaries/zones']);
    expect(await boundaryReports('scripts/renderer-screenshots.ts', importing('../renderer/dev/demo'))).toEqual([]);
    expect(await boundaryReports('scripts/renderer-screenshots.ts', importing('../renderer/app/routes'))).toEqual(['boundaries/zones']);
  });

  it('faults imports the server, the core, the demo stack, testing and shared, never the renderer', async () => {
    expect(await boundaryReports('faults/probe.test.ts', importing('../renderer/bridge/errors'))).toEqual(['boundaries/zones']);
    expect(await boundaryReports('faults/support/probe.ts', importing('../../electron/shell/security'))).toEqual(['boundaries/zones']);
    for (const spec of ['../api/src/db/migrate', '../electron/core/session', '../devstack/src/idp/provider', '../testing/db', '../shared/messages', './support/client']) {
      expect(await boundaryReports('faults/probe.test.ts', importing(spec)), spec).toEqual([]);
    }
  });
});
