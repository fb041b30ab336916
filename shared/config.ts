// Managed configuration: the policy file IT places at a fixed system path.
// It overrides anything a user sets; a bad file stops the app with a message
// that names the file and the field (see electron/core/config).
import { z } from 'zod';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

export const isLoopbackUrl = (value: string): boolean => {
  try {
    return LOOPBACK_HOSTS.has(new URL(value).hostname);
  } catch {
    return false;
  }
};

/** HTTPS, or plain HTTP on loopback only (development and the demo stack). */
export const SecureUrl = z
  .url({ protocol: /^https?$/ })
  .refine((u) => u.startsWith('https://') || isLoopbackUrl(u), 'must use https:// (plain http is allowed on loopback only)');

// An Ed25519 public key as SPKI PEM (what `openssl pkey -pubout` prints): the DER is the fixed
// 12-byte Ed25519 prefix (base64 "MCowBQYDK2VwAyEA") and the raw 32-byte key, so the body is
// exactly 60 base64 characters. The last character before "=" must leave its 2 spare bits zero,
// so a key has one spelling only.
const ED25519_SPKI_PEM =
  /^-----BEGIN PUBLIC KEY-----\r?\n(MCowBQYDK2VwAyEA[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=)\r?\n-----END PUBLIC KEY-----(\r?\n)?$/;

/** An Ed25519 public key, SPKI PEM; `ed25519RawKey` gives its raw 32 bytes. */
export const AuditPublicKey = z.string().regex(ED25519_SPKI_PEM, 'must be an Ed25519 public key in SPKI PEM form (-----BEGIN PUBLIC KEY----- ...)');

/** The raw 32-byte Ed25519 key of a valid AuditPublicKey (the key id is the first 16 bytes of its SHA-256, see shared/audit.ts). */
export function ed25519RawKey(pem: string): Uint8Array<ArrayBuffer> {
  const body = ED25519_SPKI_PEM.exec(pem)?.[1];
  if (!body) throw new TypeError('not an Ed25519 SPKI PEM public key');
  const der = Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
  return der.slice(12);
}

export const Policy = z.strictObject({
  issuer: SecureUrl,
  clientId: z.string().min(1).max(200),
  apiBaseUrl: SecureUrl,
  /** The API's resource indicator (RFC 8707): the `aud` of access tokens. */
  apiAudience: z.string().min(1).max(500),
  scope: z.string().min(1).max(500).default('openid profile offline_access api'),
  inactivityTimeoutMinutes: z.number().min(0.05).max(480).default(15),
  /** Lock at once when the workstation's screen locks, it sleeps or the user switches (as a password manager does). */
  lockOnScreenLock: z.boolean().default(true),
  /**
   * How tokens are bound. `dpop` (RFC 9449): a new key per sign-in, held in memory by the console, binds
   * the access and refresh tokens, so a copied token is useless elsewhere; after a restart the user signs
   * in again. `rotation`: bearer tokens; the rotating refresh token in the keychain survives a restart.
   */
  tokenBinding: z.enum(['dpop', 'rotation']).default('dpop'),
  /** Hosts that external links may open in the system browser. */
  allowedExternalHosts: z.array(z.string().min(1)).default([]),
  /** Per-machine installs are updated by IT; the self-updater stays off unless policy turns it on. */
  autoUpdate: z.boolean().default(false),
  /**
   * The Ed25519 keys whose signed audit checkpoints this console accepts (the API's signing key,
   * and earlier ones while their checkpoints are kept). They come from IT, never from the API:
   * a key the API handed over would vouch for whatever the API says. Empty: signatures are not checked.
   */
  auditPublicKeys: z
    .array(AuditPublicKey)
    .max(16)
    .refine((keys) => new Set(keys.map((k) => k.replace(/\r/g, '').trim())).size === keys.length, 'lists the same key twice')
    .default([]),
});
export type Policy = z.infer<typeof Policy>;
export type PolicyInput = z.input<typeof Policy>;

/** Where IT places the policy file on each OS (Windows: under the ProgramData known folder, not the environment's). */
export const POLICY_PATHS = {
  win32: String.raw`%ProgramData%\CIMS Console\policy.json`,
  darwin: '/Library/Application Support/CIMS Console/policy.json',
  linux: '/etc/cims-console/policy.json',
} as const;

/**
 * The OS-native places IT's tools write policies to, read before the file: Group Policy / Intune
 * (the ADMX templates in build/policy/ write this key, one value per field) and macOS managed
 * preferences (a configuration profile for this domain, the console's bundle id).
 */
export const POLICY_REGISTRY_KEY = String.raw`HKLM\SOFTWARE\Policies\CIMS\CIMS Console`;
export const POLICY_MANAGED_DOMAIN = 'com.cims.console';
