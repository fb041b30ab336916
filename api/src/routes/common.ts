// Pieces every route file uses: the problem responses per status code, the
// path parameter, and the If-Match check for writes.
import { z } from 'zod';
import { OrgId, Problem } from '../../../shared/api';
import { HttpProblem } from '../problem';
import type { Store } from '../db/store';

export interface RouteDeps {
  store: Store;
}

export const OrgParams = z.strictObject({ orgId: OrgId });

/** Problem responses, keyed by status code, for a route's `response` schema. */
export function problems<const C extends readonly number[]>(...codes: C): Record<C[number], typeof Problem> {
  return Object.fromEntries(codes.map((c) => [c, Problem])) as Record<C[number], typeof Problem>;
}

/** Errors any route under /v1 can answer with. */
export const AUTHENTICATED_PROBLEMS = [400, 401, 403, 429, 500, 503] as const;

/**
 * The version a write expects, from `If-Match: "<version>"` (the ETag of the read).
 * Missing: 428. `*` defeats the purpose (a blind overwrite): 428 as well. Any other
 * value names no current version: 412.
 */
export function expectedVersion(header: string | undefined): number {
  if (!header || header.trim() === '*') {
    throw new HttpProblem(428, 'precondition-required', 'Send If-Match with the ETag of the version you edited.');
  }
  const match = /^\s*"([1-9][0-9]{0,9})"\s*$/.exec(header);
  // Versions are 32-bit integers in the database; anything else cannot be current.
  if (!match?.[1] || Number(match[1]) > 2_147_483_647) {
    throw new HttpProblem(412, 'precondition-failed', 'If-Match does not name a version of this record.');
  }
  return Number(match[1]);
}
