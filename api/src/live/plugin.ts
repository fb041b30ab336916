// The change stream's hub as a decoration (`app.live`), over the process's one
// listener. Open streams are ended before the server closes, so a shutdown does
// not wait for them (their consoles reconnect, to another process if need be).
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { LiveHub, LiveRows } from './hub';
import type { ChangeSource } from './listener';

declare module 'fastify' {
  interface FastifyInstance {
    live: LiveHub;
  }
}

const SQL = {
  events: 'SELECT api.live_events($1::bigint[]) AS r',
  after: 'SELECT api.live_events_after($1::bigint, $2::integer) AS r',
} as const;

export interface LivePluginOptions {
  source: ChangeSource | null;
  maxStreamsPerSubject?: number;
  heartbeatMs?: number;
  maxStreamMs?: number;
}

export const livePlugin = fp<LivePluginOptions>(
  async (app: FastifyInstance, options) => {
    // Looked up when used: a store stand-in without the audit rows (the contract test's) still builds.
    const call = (name: string, text: string, values: unknown[]) => app.store.audit.call(name, text, values);
    const hub = new LiveHub({
      source: options.source,
      lookup: async (ids) => LiveRows.parse(await call('live_events', SQL.events, [ids])),
      replay: async (after, limit) => {
        const r = await call('live_events_after', SQL.after, [after, limit]);
        return r === null || r === undefined ? null : LiveRows.parse(r);
      },
      onError: (err) => app.log.warn({ err }, 'change stream'),
      ...(options.maxStreamsPerSubject ? { maxStreamsPerSubject: options.maxStreamsPerSubject } : {}),
      ...(options.heartbeatMs ? { heartbeatMs: options.heartbeatMs } : {}),
      ...(options.maxStreamMs ? { maxStreamMs: options.maxStreamMs } : {}),
    });
    app.decorate('live', hub);
    app.addHook('preClose', async () => hub.close());
  },
  { name: 'cims-live', fastify: '5.x', dependencies: ['cims-store'] },
);
