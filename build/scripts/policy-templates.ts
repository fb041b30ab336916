// The OS-native policy templates, generated from the same JSON Schema as build/policy.schema.json
// (itself from the zod Policy), so a field added to Policy appears in every one of them:
//   build/policy/cims-console.admx, build/policy/en-US/cims-console.adml  Group Policy / Intune ADMX
//     ingestion: one machine policy per field under HKLM\SOFTWARE\Policies\CIMS\CIMS Console
//   build/policy/com.cims.console.mobileconfig  a macOS configuration profile example (managed
//     preferences for com.cims.console) holding build/policy.example.json's values
// Written by `npm run policy:schema`; build/policy-templates.test.ts fails when they drift.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { POLICY_MANAGED_DOMAIN, POLICY_REGISTRY_KEY } from '../../shared/config';
import { policyJsonSchema } from './policy-schema';

const BUILD_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
export const TEMPLATE_FILES = {
  admx: join(BUILD_DIR, 'policy', 'cims-console.admx'),
  adml: join(BUILD_DIR, 'policy', 'en-US', 'cims-console.adml'),
  mobileconfig: join(BUILD_DIR, 'policy', `${POLICY_MANAGED_DOMAIN}.mobileconfig`),
} as const;

interface Property {
  type?: string;
  enum?: string[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  description?: string;
  items?: Property;
}

/** What an administrator reads in the Group Policy editor; a field without an entry shows its name and the schema's description. */
const TEXTS: Record<string, { title: string; explain: string }> = {
  issuer: { title: 'Identity provider (issuer URL)', explain: "Your OpenID Connect provider's issuer URL (Keycloak realm, Entra ID tenant, Okta org). https:// only." },
  clientId: { title: 'Client id', explain: "The console's client id at the identity provider: a public client with PKCE and the loopback redirect http://127.0.0.1/callback (any port)." },
  apiBaseUrl: { title: 'CIMS API URL', explain: 'The CIMS API, https:// only.' },
  apiAudience: { title: 'API audience', explain: "The API's resource indicator, the aud of its access tokens: urn:cims:api." },
  scope: { title: 'Scopes', explain: 'Scopes the console asks for. Not configured: openid profile offline_access api.' },
  inactivityTimeoutMinutes: { title: 'Lock after minutes without input', explain: 'Minutes without input before the console locks (1 to 480). Not configured: 15.' },
  lockOnScreenLock: { title: 'Lock with the workstation', explain: 'Enabled (the default when not configured): the console locks when the screen locks or the machine sleeps.' },
  tokenBinding: { title: 'Token binding', explain: 'dpop (the default): access tokens are bound to a key held by the console (DPoP). rotation: bearer tokens with rotating refresh tokens, for providers without DPoP.' },
  allowedExternalHosts: { title: 'Hosts links may open', explain: 'Hosts whose links may open in the system browser. One host per entry.' },
  autoUpdate: { title: 'Self-update', explain: 'Reserved: this version ships no self-updater; IT deploys updates.' },
  auditPublicKeys: {
    title: 'Audit public keys',
    explain:
      "The API's audit signing keys (Ed25519 public keys, at most 16), one per entry: the PEM text on one line, the BEGIN line, the base64 line and the END line separated by spaces. See the administrator's guide, The audit public keys.",
  },
};

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const REG_KEY = POLICY_REGISTRY_KEY.replace(/^HKLM\\SOFTWARE\\/, 'Software\\');

function properties(): { props: [string, Property][]; required: Set<string> } {
  const schema = policyJsonSchema() as { properties: Record<string, Property>; required?: string[] };
  return { props: Object.entries(schema.properties), required: new Set(schema.required ?? []) };
}
const textsFor = (name: string, p: Property) => TEXTS[name] ?? { title: name, explain: p.description ?? name };

export function admxText(): string {
  const { props, required } = properties();
  const policies = props.map(([name, p]) => {
    const head = `    <policy name="${name}" class="Machine" displayName="$(string.${name})" explainText="$(string.${name}_Explain)"`;
    const common = `      <parentCategory ref="CIMSConsole" />\n      <supportedOn ref="SUPPORTED_CIMS_CONSOLE" />`;
    if (p.type === 'boolean') {
      return `${head} key="${REG_KEY}" valueName="${name}">\n${common}\n      <enabledValue><decimal value="1" /></enabledValue>\n      <disabledValue><decimal value="0" /></disabledValue>\n    </policy>`;
    }
    let element: string;
    if (p.type === 'array') element = `<list id="${name}" key="${REG_KEY}\\${name}" valuePrefix="" />`;
    else if (p.type === 'number' || p.type === 'integer') {
      // REG_DWORD holds whole numbers: the schema's bounds rounded inwards.
      element = `<decimal id="${name}" valueName="${name}" required="true" minValue="${Math.ceil(p.minimum ?? 0)}" maxValue="${Math.floor(p.maximum ?? 4294967295)}" />`;
    } else if (p.enum) {
      const items = p.enum.map((v) => `          <item displayName="$(string.${name}_${v})"><value><string>${esc(v)}</string></value></item>`).join('\n');
      element = `<enum id="${name}" valueName="${name}" required="true">\n${items}\n        </enum>`;
    } else {
      element = `<text id="${name}" valueName="${name}" required="true"${p.maxLength ? ` maxLength="${p.maxLength}"` : ''} />`;
    }
    return `${head} presentation="$(presentation.${name})" key="${REG_KEY}">\n${common}\n      <elements>\n        ${element}\n      </elements>\n    </policy>`;
  });
  void required;
  return `<?xml version="1.0" encoding="utf-8"?>
<!-- Generated from Policy in shared/config.ts by \`npm run policy:schema\`; do not edit by hand. -->
<policyDefinitions xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" revision="1.0" schemaVersion="1.0" xmlns="http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions">
  <policyNamespaces>
    <target prefix="cimsconsole" namespace="CIMS.Policies.CIMSConsole" />
  </policyNamespaces>
  <resources minRequiredRevision="1.0" />
  <supportedOn>
    <definitions>
      <definition name="SUPPORTED_CIMS_CONSOLE" displayName="$(string.SUPPORTED_CIMS_CONSOLE)" />
    </definitions>
  </supportedOn>
  <categories>
    <category name="CIMSConsole" displayName="$(string.CIMSConsole)" />
  </categories>
  <policies>
${policies.join('\n')}
  </policies>
</policyDefinitions>
`;
}

export function admlText(): string {
  const { props, required } = properties();
  const strings = [
    ['CIMSConsole', 'CIMS Console'],
    ['SUPPORTED_CIMS_CONSOLE', 'CIMS Console 0.1 and later'],
    ...props.flatMap(([name, p]) => {
      const t = textsFor(name, p);
      const must = required.has(name) ? ' Required: the console does not start without it.' : '';
      return [
        [name, t.title],
        [`${name}_Explain`, `${t.explain}${must}`],
        ...(p.enum ?? []).map((v) => [`${name}_${v}`, v]),
      ];
    }),
  ].map(([id, text]) => `      <string id="${id}">${esc(text!)}</string>`);
  const presentations = props
    .filter(([, p]) => p.type !== 'boolean')
    .map(([name, p]) => {
      const label = esc(textsFor(name, p).title);
      const control =
        p.type === 'array'
          ? `<listBox refId="${name}">${label}</listBox>`
          : p.type === 'number' || p.type === 'integer'
            ? `<decimalTextBox refId="${name}"${typeof p.default === 'number' ? ` defaultValue="${p.default}"` : ''}>${label}</decimalTextBox>`
            : p.enum
              ? `<dropdownList refId="${name}" noSort="true"${p.default !== undefined ? ` defaultItem="${p.enum.indexOf(String(p.default))}"` : ''}>${label}</dropdownList>`
              : `<textBox refId="${name}"><label>${label}</label>${typeof p.default === 'string' ? `<defaultValue>${esc(p.default)}</defaultValue>` : ''}</textBox>`;
      return `      <presentation id="${name}">\n        ${control}\n      </presentation>`;
    });
  return `<?xml version="1.0" encoding="utf-8"?>
<!-- Generated from Policy in shared/config.ts by \`npm run policy:schema\`; do not edit by hand. -->
<policyDefinitionResources xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" revision="1.0" schemaVersion="1.0" xmlns="http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions">
  <displayName>CIMS Console</displayName>
  <description>Machine policies of CIMS Console (see the administrator's guide)</description>
  <resources>
    <stringTable>
${strings.join('\n')}
    </stringTable>
    <presentationTable>
${presentations.join('\n')}
    </presentationTable>
  </resources>
</policyDefinitionResources>
`;
}

/** A stable UUID from a name, so the generated profile does not change between runs (replace them with your own). */
const uuidFrom = (name: string) => {
  const h = createHash('sha256').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`.toUpperCase();
};

function plistValue(value: unknown, indent: string): string {
  if (typeof value === 'string') return `${indent}<string>${esc(value)}</string>`;
  if (typeof value === 'boolean') return `${indent}<${value}/>`;
  if (typeof value === 'number') return Number.isInteger(value) ? `${indent}<integer>${value}</integer>` : `${indent}<real>${value}</real>`;
  if (Array.isArray(value)) return `${indent}<array>\n${value.map((v) => plistValue(v, `${indent}  `)).join('\n')}\n${indent}</array>`;
  throw new TypeError(`a policy value the profile cannot hold: ${JSON.stringify(value)}`);
}
const plistDict = (entries: [string, unknown][], indent: string) =>
  entries.map(([k, v]) => `${indent}<key>${esc(k)}</key>\n${plistValue(v, indent)}`).join('\n');

export function mobileconfigText(example: Record<string, unknown> = JSON.parse(readFileSync(join(BUILD_DIR, 'policy.example.json'), 'utf8')) as Record<string, unknown>): string {
  const payload: [string, unknown][] = [
    ['PayloadType', POLICY_MANAGED_DOMAIN],
    ['PayloadIdentifier', `${POLICY_MANAGED_DOMAIN}.policy`],
    ['PayloadUUID', uuidFrom(`${POLICY_MANAGED_DOMAIN}.policy`)],
    ['PayloadVersion', 1],
    ['PayloadDisplayName', 'CIMS Console policy'],
    // The one-line form of each PEM key, as in the registry (the console restores the line breaks).
    ...Object.entries(example).map(([k, v]): [string, unknown] => [k, k === 'auditPublicKeys' && Array.isArray(v) ? v.map((p) => String(p).trim().split(/\r?\n/).join(' ')) : v]),
  ];
  const profile: [string, unknown][] = [
    ['PayloadDisplayName', 'CIMS Console'],
    ['PayloadDescription', "Where CIMS Console signs in and which API it uses (see the administrator's guide)."],
    ['PayloadIdentifier', `${POLICY_MANAGED_DOMAIN}.profile`],
    ['PayloadOrganization', 'Example Corp'],
    ['PayloadScope', 'System'],
    ['PayloadType', 'Configuration'],
    ['PayloadUUID', uuidFrom(`${POLICY_MANAGED_DOMAIN}.profile`)],
    ['PayloadVersion', 1],
  ];
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!-- Example generated from build/policy.example.json by \`npm run policy:schema\`: put your values in and give it your own UUIDs. -->
<plist version="1.0">
<dict>
  <key>PayloadContent</key>
  <array>
    <dict>
${plistDict(payload, '      ')}
    </dict>
  </array>
${plistDict(profile, '  ')}
</dict>
</plist>
`;
}

export const templateTexts = (): Record<keyof typeof TEMPLATE_FILES, string> => ({ admx: admxText(), adml: admlText(), mobileconfig: mobileconfigText() });
