// The stack's output contract: once everything is up it prints one line,
// `CIMS stack ready {json}`. Tests and tools parse that line with this schema
// instead of guessing ports.
import { z } from 'zod';

export const READY_PREFIX = 'CIMS stack ready ';

export const ReadyInfo = z.strictObject({
  issuer: z.url(),
  api: z.url(),
  clientId: z.string().min(1),
  audience: z.string().min(1),
  scope: z.string().min(1),
  demoAccounts: z.array(z.strictObject({ username: z.string(), password: z.string(), roles: z.array(z.string()) })).min(1),
  dataDir: z.string().min(1),
  database: z.enum(['pglite', 'postgres']),
  apiLog: z.string().min(1),
  /** The demo customer portal and its customers' contacts (one per demo organization of the first few). */
  portal: z.url().optional(),
  customerAccounts: z.array(z.strictObject({ username: z.string(), password: z.string(), orgId: z.string() })).optional(),
});
export type ReadyInfo = z.infer<typeof ReadyInfo>;

/** The ready info from one line of the stack's output, or undefined when the line is something else. */
export function parseReadyLine(line: string): ReadyInfo | undefined {
  if (!line.startsWith(READY_PREFIX)) return undefined;
  return ReadyInfo.parse(JSON.parse(line.slice(READY_PREFIX.length)));
}
