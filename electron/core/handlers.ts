// One function maps every channel of shared/ipc.ts to a handler: input and
// output validated with the channel's schemas, every outcome an IpcResult
// (typed error, never a stack trace). The Electron shell wires this object to
// ipcMain; the end-to-end harness exposes the same object to a Chromium page as
// `window.cims`. It has no Electron types.
import type { z } from 'zod';
import type { Policy } from '../../shared/config';
import { endpoints } from '../../shared/http';
import {
  AuditExportResult,
  channels,
  type Channel,
  type ChannelInput,
  type ChannelOutput,
  type CimsBridge,
  type EventName,
  type EventPayload,
  type IpcResult,
} from '../../shared/ipc';
import { ApiClient } from './api-client';
import { systemClock, type Clock, type Fetch, type LogSink, type SecretStore } from './deps';
import { fail, IpcFailure, MESSAGES } from './errors';
import { EventHub } from './events';
import { LiveStream } from './live';
import { errorCode, exportFailureMessage, nullLog } from './log';
import { Session, type WorkstationEvent } from './session';
import { apiCheckpoints, createAuditWitness, fileWitnessStore, memoryWitnessStore } from './witness';

export interface SaveDialogRequest {
  title: string;
  defaultName: string;
  /** e.g. [{ name: 'CSV', extensions: ['csv'] }] */
  filters: { name: string; extensions: string[] }[];
}

export interface CoreDeps {
  policy: Policy;
  /** Every HTTP call of the core, the identity provider's included. In the app: Electron's net.fetch. */
  fetch: Fetch;
  /** Opens a URL in the system browser. */
  openExternal: (url: string) => Promise<void>;
  secrets: SecretStore;
  /** Asks the user where to save a file; null when they cancel. */
  chooseSavePath: (request: SaveDialogRequest) => Promise<string | null>;
  clock?: Clock;
  log?: LogSink & { exportTo?: (path: string) => void };
  /** How long an interactive sign-in may take (default 5 minutes). */
  signInTimeoutMs?: number;
  /** How often the inactivity lock is checked by timer (it is also checked on every call, resume and focus). */
  lockCheckIntervalMs?: number;
  /** The console's version, sent to the API so audit events say which app made a change. */
  appVersion?: string;
  /** Called when an interactive sign-in completes (the shell brings the window to the front). */
  onSignedIn?: () => void;
  /** The user's data folder (the app's userData): where the audit witness remembers checkpoints. Without it, only for this run. */
  userDataDir?: string;
}

export interface CimsCore extends CimsBridge {
  /** Restores the session from the keychain (no browser). Call once at start. */
  start(): Promise<void>;
  /** Hooks the shell calls: resume from sleep, window focus, user activity it sees itself, the workstation locking. */
  hooks: { resume(): Promise<void>; focus(): Promise<void>; activity(): void; workstationLocked(reason: WorkstationEvent): void };
  /** Untyped entry for transports that carry strings (ipcMain, a page binding): validates the channel name too. */
  invokeUnknown(channel: unknown, input: unknown): Promise<IpcResult<unknown>>;
  dispose(): void;
}

type Handler<C extends Channel> = (input: z.infer<(typeof channels)[C]['input']>) => Promise<ChannelOutput<C>>;
type HandlerTable = { [C in Channel]: Handler<C> };

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function createHandlers(deps: CoreDeps): CimsCore {
  const clock = deps.clock ?? systemClock;
  const log: NonNullable<CoreDeps['log']> = deps.log ?? nullLog;
  const hub = new EventHub();
  const session = new Session({
    policy: deps.policy,
    fetch: deps.fetch,
    secrets: deps.secrets,
    clock,
    log,
    hub,
    openExternal: deps.openExternal,
    ...(deps.signInTimeoutMs !== undefined ? { signInTimeoutMs: deps.signInTimeoutMs } : {}),
    ...(deps.onSignedIn ? { onSignedIn: deps.onSignedIn } : {}),
  });
  const api = new ApiClient({ baseUrl: deps.policy.apiBaseUrl, fetch: deps.fetch, tokens: session, hub, log, clock, ...(deps.appVersion ? { appVersion: deps.appVersion } : {}) });
  // One change stream per session: follows session:changed (open while signed in), pushes live:* events.
  const live = new LiveStream({ api, hub, log }, session.getState());

  /** A download (CSV unless said otherwise) to a file the user picks, with progress as audit:exportProgress. */
  async function exportCsv(
    title: string,
    name: string,
    download: (path: string, progress: (rows: number, done: boolean, bytes: number) => void) => Promise<number>,
    format: SaveDialogRequest['filters'][number] = { name: 'CSV', extensions: ['csv'] },
  ): Promise<ChannelOutput<'audit:exportCsv'>> {
    // Fail fast (locked, signed out) before asking where to save.
    await session.accessToken();
    const path = await deps.chooseSavePath({ title, defaultName: `${name}-${isoDay(clock.now())}.${format.extensions[0] ?? 'csv'}`, filters: [format] });
    if (!path) return AuditExportResult.parse({ path: null, rows: 0 });
    const rows = await download(path, (n, done, bytes) => hub.emit('audit:exportProgress', { rows: n, done, bytes }));
    return { path, rows };
  }

  const witness = createAuditWitness({
    policy: deps.policy,
    store: deps.userDataDir ? fileWitnessStore(deps.userDataDir, log) : memoryWitnessStore(),
    fetchCheckpoint: apiCheckpoints(api),
    clock,
    log,
  });

  const handlers: HandlerTable = {
    'session:get': async () => session.getState(),
    'session:signIn': () => session.signIn(),
    'session:cancelSignIn': () => session.cancelSignIn(),
    'session:signOut': () => session.signOut(),
    'session:activity': async () => {
      session.activity();
      return null;
    },
    'customers:list': (query) => api.call(endpoints['customers.list'], { query }),
    'customers:get': ({ orgId }) => api.call(endpoints['customers.get'], { params: { orgId } }),
    'customers:create': (body) => api.call(endpoints['customers.create'], { body }),
    'customers:update': ({ orgId, version, changes, reason, revertOf }) =>
      api.call(endpoints['customers.update'], { params: { orgId }, body: { changes, reason, ...(revertOf ? { revertOf } : {}) }, ifMatch: version }),
    'customers:archive': ({ orgId, version, reason }) =>
      api.call(endpoints['customers.archive'], { params: { orgId }, body: { reason }, ifMatch: version }),
    'customers:unarchive': ({ orgId, version, reason }) =>
      api.call(endpoints['customers.unarchive'], { params: { orgId }, body: { reason }, ifMatch: version }),
    'customers:usage': ({ orgId, days }) => {
      const now = clock.now();
      const query = { from: isoDay(now - (days - 1) * 86_400_000), to: isoDay(now) };
      return api.call(endpoints['customers.usage'], { params: { orgId }, query });
    },
    'customers:predictions': ({ orgId }) => api.call(endpoints['customers.predictions'], { params: { orgId } }),
    'customers:predictionFeedback': ({ orgId, feedback }) => api.call(endpoints['customers.predictionFeedback'], { params: { orgId }, body: feedback }),
    'customers:audit': ({ orgId, cursor }) => api.call(endpoints['customers.audit'], { params: { orgId }, query: { cursor } }),
    'customers:access': ({ orgId, cursor }) => api.call(endpoints['customers.access'], { params: { orgId }, query: { cursor } }),
    'portfolio:summary': () => api.call(endpoints['portfolio.summary'], {}),
    'staff:list': () => api.call(endpoints['staff.list'], {}),
    'assignments:apply': (body) => api.call(endpoints['assignments.create'], { body }),
    'approvals:rules': () => api.call(endpoints['approvalRules.get'], {}),
    'approvals:list': (query) => api.call(endpoints['changeRequests.list'], { query }),
    'approvals:get': ({ id }) => api.call(endpoints['changeRequests.get'], { params: { id } }),
    'approvals:approve': ({ id, version, reason }) => api.call(endpoints['changeRequests.approve'], { params: { id }, body: { reason }, ifMatch: version }),
    'approvals:reject': ({ id, version, reason }) => api.call(endpoints['changeRequests.reject'], { params: { id }, body: { reason }, ifMatch: version }),
    'approvals:withdraw': ({ id, reason }) => api.call(endpoints['changeRequests.withdraw'], { params: { id }, body: { reason } }),
    'audit:events': (query) => api.call(endpoints['audit.events'], { query }),
    'audit:verify': async (query) => {
      const trail = await api.call(endpoints['audit.verify'], { query });
      return { trail, witness: await witness.check(trail) };
    },
    'audit:exportCsv': (query) => exportCsv('Export audit trail', 'audit', (path, progress) =>
      api.download(endpoints['audit.exportCsv'], { query }, path, progress),
    ),
    'audit:access': (query) => api.call(endpoints['audit.access'], { query }),
    'audit:exportAccessCsv': (query) => exportCsv('Export access log', 'access', (path, progress) =>
      api.download(endpoints['audit.accessCsv'], { query }, path, progress),
    ),
    'audit:exportEvidence': (query) =>
      exportCsv('Download evidence bundle', 'audit-evidence', (path, progress) => api.download(endpoints['audit.evidence'], { query }, path, progress), {
        name: 'Evidence bundle (NDJSON)',
        extensions: ['ndjson'],
      }),
    'diagnostics:exportLogs': async () => {
      const exportTo = log.exportTo;
      if (!exportTo) return { path: null };
      const path = await deps.chooseSavePath({
        title: 'Export diagnostic logs',
        defaultName: `cims-console-logs-${isoDay(clock.now())}.log`,
        filters: [{ name: 'Log', extensions: ['log', 'txt'] }],
      });
      if (!path) return { path: null };
      try {
        exportTo.call(log, path);
      } catch (error) {
        log.write('warn', 'diagnostics.export.failed', { error: errorCode(error) });
        throw fail('internal', exportFailureMessage(error));
      }
      log.write('info', 'diagnostics.exported', {});
      return { path };
    },
  };

  async function run(channel: Channel, input: unknown): Promise<IpcResult<unknown>> {
    const spec = channels[channel];
    const parsedInput = spec.input.safeParse(input ?? {});
    if (!parsedInput.success) {
      return {
        ok: false,
        error: {
          code: 'validation',
          message: MESSAGES.validation,
          fieldErrors: parsedInput.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
        },
      };
    }
    try {
      if (!channel.startsWith('session:')) session.checkLock();
      const handler = handlers[channel] as (input: unknown) => Promise<unknown>;
      const output = await handler(parsedInput.data);
      const parsedOutput = spec.output.safeParse(output);
      if (!parsedOutput.success) {
        log.write('error', 'ipc.output.invalid', { channel, issues: parsedOutput.error.issues.length });
        return { ok: false, error: { code: 'internal', message: MESSAGES.badResponse } };
      }
      return { ok: true, data: parsedOutput.data };
    } catch (error) {
      if (error instanceof IpcFailure) return { ok: false, error: error.error };
      log.write('error', 'ipc.handler.failed', { channel, error: error instanceof Error ? error.name : 'unknown' });
      return { ok: false, error: { code: 'internal', message: MESSAGES.internal } };
    }
  }

  const timer = setInterval(() => session.checkLock(), deps.lockCheckIntervalMs ?? 15_000);
  timer.unref?.();

  return {
    invoke<C extends Channel>(channel: C, input: ChannelInput<C>): Promise<IpcResult<ChannelOutput<C>>> {
      return run(channel, input) as Promise<IpcResult<ChannelOutput<C>>>;
    },
    invokeUnknown(channel, input) {
      if (typeof channel !== 'string' || !Object.hasOwn(channels, channel)) {
        return Promise.resolve({ ok: false, error: fail('internal', 'Unknown request.').error });
      }
      return run(channel as Channel, input);
    },
    on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void) {
      return hub.on(event, listener);
    },
    async start() {
      log.write('info', 'core.start', { configIssuerLoopback: deps.policy.issuer.startsWith('http://') });
      await session.restore();
    },
    hooks: {
      resume: () => session.wake(),
      focus: () => session.wake(),
      activity: () => session.activity(),
      workstationLocked: (reason) => session.lockWithWorkstation(reason),
    },
    dispose() {
      clearInterval(timer);
      live.dispose();
      session.dispose();
    },
  };
}
