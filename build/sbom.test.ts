// `npm run sbom` runs here (offline) and lists what ships: production dependencies of the desktop app.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTempDirs } from './temp-dirs';
import { writeSbom } from './scripts/sbom';

const tempDir = useTempDirs();

interface Component { name: string; group?: string; version: string; components?: Component[] }
interface Bom { bomFormat: string; specVersion: string; metadata: { component: { name: string } }; components: Component[] }

const flatten = (list: Component[] = []): Component[] => list.flatMap((c) => [c, ...flatten(c.components)]);
const fullName = (c: Component): string => (c.group ? `${c.group}/${c.name}` : c.name);

describe('SBOM', () => {
  let bom: Bom;
  let names: Set<string>;

  beforeAll(() => {
    const file = join(tempDir('sbom-'), 'cims-console.cdx.json');
    writeSbom(file);
    bom = JSON.parse(readFileSync(file, 'utf8')) as Bom;
    names = new Set(flatten(bom.components).map(fullName));
  }, 60_000);

  it('is CycloneDX 1.6 JSON for the desktop app', () => {
    expect(bom.bomFormat).toBe('CycloneDX');
    expect(bom.specVersion).toBe('1.6');
    expect(bom.metadata.component.name).toBe('cims-console');
  });

  it('lists the production dependencies', () => {
    for (const name of ['keytar', 'react', 'react-dom', 'zod', 'openid-client', '@tanstack/react-query']) expect(names, name).toContain(name);
  });

  it('leaves out dev dependencies and the api workspace', () => {
    for (const name of ['vitest', 'electron', 'electron-builder', 'eslint', 'typescript', '@playwright/test', 'fastify', 'pg', 'oidc-provider', 'api']) {
      expect(names, name).not.toContain(name);
    }
  });
});
