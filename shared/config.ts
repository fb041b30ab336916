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

export const Policy = z.strictObject({
  issuer: SecureUrl,
  clientId: z.string().min(1).max(200),
  apiBaseUrl: SecureUrl,
  /** The API's resource indicator (RFC 8707): the `aud` of access tokens. */
  apiAudience: z.string().min(1).max(500),
  scope: z.string().min(1).max(500).default('openid profile offline_access api'),
  inactivityTimeoutMinutes: z.number().min(0.05).max(480).default(15),
  /** Hosts that external links may open in the system browser. */
  allowedExternalHosts: z.array(z.string().min(1)).default([]),
  /** Per-machine installs are updated by IT; the self-updater stays off unless policy turns it on. */
  autoUpdate: z.boolean().default(false),
});
export type Policy = z.infer<typeof Policy>;
export type PolicyInput = z.input<typeof Policy>;

/** Where IT places the policy file on each OS. */
export const POLICY_PATHS = {
  win32: String.raw`%ProgramData%\CIMS Console\policy.json`,
  darwin: '/Library/Application Support/CIMS Console/policy.json',
  linux: '/etc/cims-console/policy.json',
} as const;
