// The change stream (GET /v1/events, Server-Sent Events): what one event says.
// Only what names a change and who made it, never a field's value: the console
// refetches what it shows. The API sends `change` events (id: the audit event
// id, for Last-Event-ID), `reset` when it cannot say what was missed (refetch
// everything), and ends the stream with `expired` when the access token does.
import { z } from 'zod';

export const EVENTS_CONTENT_TYPE = 'text/event-stream';

export const LiveChange = z.strictObject({
  /** The audit event's id (decimal). */
  id: z.string().regex(/^[1-9][0-9]{0,18}$/),
  /** The audit event's action, e.g. customer.update, change.requested. */
  action: z.string().min(1).max(100),
  /** The entity's type (customer, predictions, ...) and id (an org id for a customer). */
  type: z.string().min(1).max(100),
  entity: z.string().min(1).max(200),
  /** A customer's version after the change; null for other entities. */
  version: z.int().min(1).nullable(),
  actorSub: z.string().min(1).max(200),
  actorName: z.string().max(200),
  /** API names of the fields the change touched (contactPhone, ...): names only. */
  fields: z.array(z.string().max(100)).max(50),
  /** The change request the event belongs to, if any. */
  changeRequest: z.string().regex(/^[1-9][0-9]{0,18}$/).nullable(),
});
export type LiveChange = z.infer<typeof LiveChange>;

/** SSE event names the API sends. */
export const LIVE_EVENTS = { change: 'change', reset: 'reset', expired: 'expired' } as const;

/** How often the API sends a comment line so that proxies keep the stream open. */
export const LIVE_HEARTBEAT_MS = 15_000;
