// The ADMX/ADML templates and the macOS profile example: checked in as generated, one policy per
// Policy field, and read back by the console's own readers into the example policy. For the
// registry, the values Group Policy would write from the ADMX's elements are rendered as reg.exe
// prints them (no Windows machine here); for macOS, the profile's payload goes through the
// managed-preferences reader as plutil would hand it over.
import { readFileSync } from 'node:fs';
import { DOMParser } from '@xmldom/xmldom';
import { describe, expect, it } from 'vitest';
import { POLICY_MANAGED_DOMAIN, POLICY_REGISTRY_KEY, Policy } from '../shared/config';
import { PLUTIL, REG_EXE, readManagedPreferences, readRegistryPolicy, type PolicyOs } from '../electron/core/policy-sources';
import { TEMPLATE_FILES, templateTexts } from './scripts/policy-templates';

const example = JSON.parse(readFileSync(new URL('./policy.example.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const parse = (text: string) => {
  const errors: string[] = [];
  const doc = new DOMParser({ errorHandler: { warning: () => undefined, error: (m) => errors.push(m), fatalError: (m) => errors.push(m) } }).parseFromString(text, 'text/xml');
  expect(errors).toEqual([]);
  return doc;
};
const children = (el: Element, name?: string): Element[] =>
  Array.from(el.childNodes).filter((n): n is Element => n.nodeType === 1 && (name === undefined || (n as Element).localName === name));
const child = (el: Element, name: string): Element | undefined => children(el, name)[0];

const admx = parse(readFileSync(TEMPLATE_FILES.admx, 'utf8')).documentElement!;
const adml = parse(readFileSync(TEMPLATE_FILES.adml, 'utf8')).documentElement!;
const policies = children(child(admx, 'policies')!, 'policy');
const KEY = POLICY_REGISTRY_KEY.replace(/^HKLM\\SOFTWARE\\/, 'Software\\');

describe('policy templates', () => {
  it('are checked in exactly as `npm run policy:schema` generates them', () => {
    const texts = templateTexts();
    for (const [kind, path] of Object.entries(TEMPLATE_FILES)) {
      expect(readFileSync(path, 'utf8'), `${path} drifted: run \`npm run policy:schema\``).toBe(texts[kind as keyof typeof texts]);
    }
  });

  it('give every Policy field one machine policy under the console key, with a text for each string they name', () => {
    expect(policies.map((p) => p.getAttribute('name')).sort()).toEqual(Object.keys(Policy.shape).sort());
    const strings = new Set(children(child(child(adml, 'resources')!, 'stringTable')!, 'string').map((s) => s.getAttribute('id')));
    const presentations = new Set(children(child(child(adml, 'resources')!, 'presentationTable')!, 'presentation').map((s) => s.getAttribute('id')));
    for (const p of policies) {
      expect(p.getAttribute('class')).toBe('Machine');
      expect(p.getAttribute('key')).toBe(KEY);
      const refs = [p.getAttribute('displayName'), p.getAttribute('explainText'), ...Array.from(p.getElementsByTagName('item')).map((i) => i.getAttribute('displayName'))];
      for (const ref of refs) expect(strings, ref!).toContain(/^\$\(string\.(.+)\)$/.exec(ref!)![1]);
      const presentation = p.getAttribute('presentation');
      if (presentation) expect(presentations).toContain(/^\$\(presentation\.(.+)\)$/.exec(presentation)![1]);
    }
  });

  it('write what the console reads back from the registry as the example policy', async () => {
    // What Group Policy writes for each element, printed as `reg query /s` prints it.
    const values: string[] = [];
    const lists: string[] = [];
    for (const p of policies) {
      const name = p.getAttribute('name')!;
      const value = example[name];
      if (value === undefined) continue;
      const element = child(p, 'elements') ? children(child(p, 'elements')!)[0]! : null;
      if (!element) {
        expect(child(p, 'enabledValue'), name).toBeDefined();
        values.push(`    ${p.getAttribute('valueName')}    REG_DWORD    0x${value ? 1 : 0}`);
        continue;
      }
      const kind = element.localName;
      if (kind === 'list') {
        expect(element.getAttribute('valuePrefix')).toBe('');
        const items = (value as string[]).map((v, i) => `    ${i + 1}    REG_SZ    ${v.trim().split(/\r?\n/).join(' ')}`);
        lists.push(`HKEY_LOCAL_MACHINE\\${element.getAttribute('key')!.replace(/^Software/, 'SOFTWARE')}`, ...items, '');
      } else if (kind === 'decimal') {
        expect(Number(value)).toBeGreaterThanOrEqual(Number(element.getAttribute('minValue')));
        expect(Number(value)).toBeLessThanOrEqual(Number(element.getAttribute('maxValue')));
        values.push(`    ${element.getAttribute('valueName')}    REG_DWORD    0x${Number(value).toString(16)}`);
      } else {
        expect(['text', 'enum'], name).toContain(kind);
        values.push(`    ${element.getAttribute('valueName')}    REG_SZ    ${String(value)}`);
      }
    }
    const stdout = ['', `HKEY_LOCAL_MACHINE\\${KEY.replace(/^Software/, 'SOFTWARE')}`, ...values, '', ...lists].join('\r\n');
    const os: PolicyOs = { run: async (file) => (expect(file).toBe(REG_EXE), { code: 0, stdout, stderr: '' }) };
    expect(Policy.parse(await readRegistryPolicy(os))).toEqual(Policy.parse(example));
  });

  it('include a macOS profile whose payload for com.cims.console the console reads back as the example policy', async () => {
    const plist = parse(readFileSync(TEMPLATE_FILES.mobileconfig, 'utf8')).documentElement!;
    const toJs = (el: Element): unknown => {
      switch (el.localName) {
        case 'dict': {
          const kids = children(el);
          const out: Record<string, unknown> = {};
          for (let i = 0; i < kids.length; i += 2) out[kids[i]!.textContent!] = toJs(kids[i + 1]!);
          return out;
        }
        case 'array':
          return children(el).map(toJs);
        case 'string':
          return el.textContent ?? '';
        case 'integer':
        case 'real':
          return Number(el.textContent);
        case 'true':
          return true;
        case 'false':
          return false;
        default:
          throw new Error(`unexpected plist element ${el.localName}`);
      }
    };
    const profile = toJs(children(plist)[0]!) as { PayloadType: string; PayloadScope: string; PayloadContent: Record<string, unknown>[] };
    expect(profile).toMatchObject({ PayloadType: 'Configuration', PayloadScope: 'System' });
    const payload = profile.PayloadContent[0]!;
    expect(payload.PayloadType).toBe(POLICY_MANAGED_DOMAIN);
    // The OS writes the payload to /Library/Managed Preferences/com.cims.console.plist; plutil prints it as JSON.
    const os: PolicyOs = { run: async (file) => (expect(file).toBe(PLUTIL), { code: 0, stdout: JSON.stringify(payload), stderr: '' }) };
    expect(Policy.parse(await readManagedPreferences(os))).toEqual(Policy.parse(example));
  });
});
