// The screens, as app state (no URLs: this is a desktop window). The last one is
// kept in sessionStorage so signing in again returns to where the user was.
import { z } from 'zod';
import { OrgId } from '../../shared/api';

export const Route = z.discriminatedUnion('name', [
  z.object({ name: z.literal('portfolio') }),
  z.object({ name: z.literal('customers') }),
  z.object({ name: z.literal('customer'), orgId: OrgId }),
  z.object({ name: z.literal('edit'), orgId: OrgId }),
  z.object({ name: z.literal('new') }),
  z.object({ name: z.literal('audit') }),
]);
export type Route = z.infer<typeof Route>;

const KEY = 'cims.route.v1';

export function loadRoute(): Route | null {
  try {
    const r = Route.safeParse(JSON.parse(sessionStorage.getItem(KEY) ?? 'null'));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

export function storeRoute(route: Route): void {
  try {
    sessionStorage.setItem(KEY, JSON.stringify(route));
  } catch {
    // Not essential.
  }
}
