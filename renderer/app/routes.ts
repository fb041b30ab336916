// The screens, as app state (no URLs: this is a desktop window). The last one is
// kept in sessionStorage, per signed-in user, so signing in again returns to where
// that user was and the next person starts on their own start screen.
import { z } from 'zod';
import { EventId, FieldChange, OrgId } from '../../shared/api';

/** "Revert this change": the history event whose before-values the edit form starts from. */
export const RevertOf = z.object({ eventId: EventId, changes: z.array(FieldChange).max(20) });
export type RevertOf = z.infer<typeof RevertOf>;

export const Route = z.discriminatedUnion('name', [
  z.object({ name: z.literal('portfolio') }),
  z.object({ name: z.literal('customers') }),
  z.object({ name: z.literal('customer'), orgId: OrgId }),
  z.object({ name: z.literal('edit'), orgId: OrgId, revert: RevertOf.optional() }),
  z.object({ name: z.literal('new') }),
  z.object({ name: z.literal('audit') }),
  z.object({ name: z.literal('approvals') }),
  z.object({ name: z.literal('admin') }),
]);
export type Route = z.infer<typeof Route>;

/** The storage key of one user's last screen (their `sub`). */
export const routeKey = (owner: string) => `cims.route.v1.${owner}`;

export function loadRoute(owner: string): Route | null {
  try {
    const r = Route.safeParse(JSON.parse(sessionStorage.getItem(routeKey(owner)) ?? 'null'));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

export function storeRoute(owner: string, route: Route): void {
  try {
    sessionStorage.setItem(routeKey(owner), JSON.stringify(route));
  } catch {
    // Not essential.
  }
}
