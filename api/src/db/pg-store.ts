// Store over PostgreSQL (pg Pool, connected as cims_api). The demo stack gives
// it another connection through `Db` (devstack's embedded PGlite). Every
// call is one `SELECT api.<function>($1, ...)` with parameters; the functions
// re-check authorization and write the audit trail. Results are validated with
// the shared zod schemas before they leave this module.
//
// Two things keep the audit guarantees cheap:
// - Sealing: writes insert their audit event unsealed; the API links finished
//   events into the hash chain, computing each link itself (src/audit/). It runs
//   every `sealIntervalMs` and before every verification, so no write waits on a
//   global chain lock.
// - Batches: record reads and edits go through Batchers to `api.customer_read`
//   and `api.customer_update_many`, which serve every request waiting when the
//   batch starts in one transaction (each edit in a subtransaction of its own),
//   committed with a WAL flush before any of them is answered. Concurrent
//   requests share the transaction, the round trip and the flush; no record is
//   shown without a durable access event, no edit acknowledged without its
//   audit event, and a failed edit takes nothing else with it.
// - Other reads of customer data (search pages, history, usage, predictions,
//   exports) write their access event in their own call's transaction, which
//   the function commits with a WAL flush (api/sql/functions/access.sql).
// - Announcing: no writing transaction notifies the change stream (NOTIFY's
//   commit lock would serialize their flushes); every write call that returned
//   queues its request ids with the Announcer, which announces their committed
//   events afterwards (src/live/announcer.ts).
import pg from 'pg';
import { z } from 'zod';
import {
  AccessEvent,
  ApprovalRules,
  AssignmentResult,
  AuditEvent,
  ChangeRequest,
  ChangeRequestAccepted,
  CustomerDetail,
  CustomerListItem,
  HIGH_CHURN_RISK,
  isStorableText,
  PortfolioSummary,
  Prediction,
  PredictionBatchResult,
  PredictionFeedbackReceipt,
  type PredictionFeedback,
  RENEWAL_SOON_DAYS,
  SelfOrganization,
  StaffList,
  UsageDay,
  type AccessPage,
  type ChangeRequestPage,
  type AssignmentRequest,
  type AuditPage,
  type BillingMethodReplace,
  type CustomerCreate,
  type CustomerFields,
  type CustomerListPage,
  type PredictionBatch,
  type SelfContactFields,
} from '../../../shared/api';
import { AuditRows } from '../audit/audit-store';
import { Announcer } from '../live/announcer';
import { Batcher, type Outcome } from './batcher';
import { checkDatabaseUrl } from './connection';
import { migrate } from './migrate';
import { parseOnce } from '../validated';
import {
  StoreError,
  type Actor,
  type AuditExport,
  type AuditFilters,
  type EditOutcome,
  type ParsedAccessQuery,
  type ParsedChangeRequestQuery,
  type ParsedAuditQuery,
  type ParsedCustomerListQuery,
  type RequestContext,
  type StaffSighting,
  type Store,
  type StoreErrorKind,
} from './store';

/**
 * What the store needs from a connection: one `api.*` call (a statement name for prepared
 * statements, its SQL, its parameters) returning column `r` of the first row, and close.
 * The connection must already act as cims_api.
 */
export interface Db {
  call(name: string, text: string, values: unknown[]): Promise<unknown>;
  close(): Promise<void>;
}

class PoolDb implements Db {
  constructor(
    private readonly pool: pg.Pool,
    private readonly named: boolean,
  ) {}
  async call(name: string, text: string, values: unknown[]): Promise<unknown> {
    const res = await this.pool.query<{ r: unknown }>(this.named ? { name: `cims_${name}`, text, values } : { text, values });
    return res.rows[0]?.r;
  }
  async close(): Promise<void> {
    await this.pool.end();
  }
}

/**
 * Custom SQLSTATEs raised by the `api.*` functions (see api/sql/functions/core.sql),
 * and the standard ones that only bad input can cause.
 */
const SQLSTATE_KINDS: Record<string, StoreErrorKind> = {
  CF403: 'forbidden',
  CN404: 'not_found',
  CC409: 'conflict',
  CV422: 'validation',
  CD409: 'duplicate',
  '23505': 'duplicate',
  '23502': 'validation',
  '23503': 'validation',
  '23514': 'validation',
  // Edits in one batch hold their rows until it commits, so a batch and another transaction can
  // wait on each other; PostgreSQL then fails one of them. Nothing was written: the client may retry.
  '40P01': 'busy',
  '40001': 'busy',
  // The API role's time limits (migration 006): a statement ran past statement_timeout, or waited
  // for a lock past lock_timeout. Cancelled and rolled back: the client may retry, or narrow it.
  '57014': 'busy',
  '55P03': 'busy',
};

/** What the client is told for a time limit, which says more than the kind's general message. */
const CODE_MESSAGES: Record<string, string> = {
  '57014': 'the request took too long in the database and was stopped; try again, or narrow it',
  '55P03': 'a record is locked by another change right now; try again',
};

/** Standard errors whose own message would name tables or internals: what the client is told instead. */
const CLIENT_MESSAGES: Partial<Record<StoreErrorKind, string>> = {
  duplicate: 'the record exists already',
  busy: 'the database is busy with a conflicting change; try again',
  unavailable: 'the database cannot be reached right now; try again shortly',
};

/** Node's socket errors and pg's own when the connection breaks (they carry no SQLSTATE). */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND']);

/**
 * The database is away: refused, reset, shutting down or starting (SQLSTATE class 08, 57P01-57P03).
 * A 503, never a 500: the API is fine and the client may try again (an edit with If-Match safely).
 */
function isConnectionFailure(err: object): boolean {
  const code = 'code' in err && typeof err.code === 'string' ? err.code : '';
  if (CONNECTION_CODES.has(code) || code.startsWith('08') || /^57P0[123]$/.test(code)) return true;
  return !code && err instanceof Error && /^Connection terminated|^Client has encountered a connection error/.test(err.message);
}

const snakeToCamel = (s: string): string => s.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

/** Maps a database error to a StoreError; anything unexpected is rethrown as is (a 500, never shown). */
export function toStoreError(err: unknown): unknown {
  if (typeof err === 'object' && err !== null && isConnectionFailure(err)) return new StoreError('unavailable', CLIENT_MESSAGES.unavailable!);
  if (typeof err !== 'object' || err === null || !('code' in err) || typeof err.code !== 'string') return err;
  const code = err.code;
  const kind = SQLSTATE_KINDS[code] ?? (code.startsWith('22') ? 'validation' : undefined);
  if (!kind) return err;
  const message = err instanceof Error ? err.message : 'database error';
  if (/^C[A-Z]\d{3}$/.test(code)) return new StoreError(kind, message);
  // Standard errors name tables and constraints: say which field instead.
  const constraint = 'constraint' in err && typeof err.constraint === 'string' ? err.constraint : '';
  const column = /^[a-z]+_(.+)_check$/.exec(constraint)?.[1];
  const fixed = CODE_MESSAGES[code] ?? CLIENT_MESSAGES[kind];
  if (fixed) return new StoreError(kind, fixed);
  return new StoreError(kind, column ? `${snakeToCamel(column)} is not valid` : 'a value is not valid');
}

// Opaque cursors: base64url JSON, bound to the sort order they were made for.
const SearchCursor = z.strictObject({ s: z.enum(['name', 'renewal', 'churnRisk']), k: z.string(), i: z.string() });
const AuditCursor = z.strictObject({ b: z.string().regex(/^[0-9]{1,19}$/) });

const encodeCursor = (v: unknown): string => Buffer.from(JSON.stringify(v), 'utf8').toString('base64url');
function decodeCursor<T extends z.ZodType>(schema: T, cursor: string): z.output<T> {
  try {
    return schema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw new StoreError('validation', 'the cursor is not valid');
  }
}

const SearchResult = z.strictObject({
  items: z.array(CustomerListItem),
  next: z.strictObject({ id: z.string(), key: z.string().nullable() }).nullable(),
  tooBroad: z.literal(true).optional(),
});
/** What api.portfolio_summary returns: the summary, with the renewal count named for the window it was given. */
const PortfolioCounts = PortfolioSummary.omit({ renewingWithin30Days: true }).extend({ renewingSoon: z.int().min(0) });
const AuditResult = z.strictObject({ items: z.array(AuditEvent), next: z.string().nullable() });
const ChangeRequestResult = z.strictObject({ items: z.array(ChangeRequest), next: z.string().nullable() });
/** An archive or un-archive: the record, or {changeRequest} when it waits for approval. */
const editOutcome = (r: unknown): EditOutcome =>
  typeof r === 'object' && r !== null && 'changeRequest' in r ? ChangeRequestAccepted.parse(r) : parseOnce(CustomerDetail, r);
const AccessResult = z.strictObject({ items: z.array(AccessEvent), next: z.string().nullable() });
const DecimalId = z.string().regex(/^[0-9]{1,19}$/);
const ExportResult = z.strictObject({ events: z.int().min(0), rows: z.int().min(0), exportId: DecimalId });
/** An export's pages: its access event, and the last event id sent (none before the first page). */
const ExportCursor = z.strictObject({ x: DecimalId, b: DecimalId.nullable() });

const actorParams = (a: Actor): unknown[] => [a.sub, a.name, a.roles, a.scopes];
const ctxParams = (c: RequestContext): unknown[] => [c.requestId, c.clientAddress, c.appVersion];
/** The caller's own request id: the last parameter of the functions that record it (p_client_request_id). */
const clientId = (c: RequestContext): string | null => c.clientRequestId ?? null;
const placeholders = (n: number, casts: Record<number, string> = {}): string =>
  Array.from({ length: n }, (_v, i) => `$${i + 1}${casts[i + 1] ?? ''}`).join(', ');

const SQL = {
  search: `SELECT api.customer_search(${placeholders(17)}) AS r`,
  read: 'SELECT api.customer_read($1::jsonb) AS r',
  create: `SELECT api.customer_create(${placeholders(11, { 9: '::jsonb' })}) AS r`,
  edit: 'SELECT api.customer_update_many($1::jsonb) AS r',
  archive: `SELECT api.customer_archive(${placeholders(11)}) AS r`,
  portfolio: `SELECT api.portfolio_summary(${placeholders(6, { 5: '::double precision', 6: '::integer' })}) AS r`,
  usage: `SELECT api.customer_usage(${placeholders(11, { 9: '::date', 10: '::date' })}) AS r`,
  predictions: `SELECT api.customer_predictions(${placeholders(9)}) AS r`,
  predictionFeedback: `SELECT api.prediction_feedback(${placeholders(10, { 9: '::jsonb' })}) AS r`,
  customerAudit: `SELECT api.customer_audit(${placeholders(11, { 9: '::bigint' })}) AS r`,
  auditEvents: `SELECT api.audit_events(${placeholders(16, { 12: '::timestamptz', 13: '::timestamptz', 14: '::bigint' })}) AS r`,
  auditExportPage: `SELECT api.audit_export_page(${placeholders(7, { 5: '::bigint', 6: '::bigint' })}) AS r`,
  auditExport: `SELECT api.audit_export(${placeholders(14, { 12: '::timestamptz', 13: '::timestamptz' })}) AS r`,
  customerAccess: `SELECT api.customer_access(${placeholders(7, { 6: '::bigint' })}) AS r`,
  accessEvents: `SELECT api.access_events(${placeholders(10, { 7: '::timestamptz', 8: '::timestamptz', 9: '::bigint' })}) AS r`,
  ingest: `SELECT api.predictions_ingest(${placeholders(9, { 8: '::jsonb' })}) AS r`,
  unarchive: `SELECT api.customer_unarchive(${placeholders(11)}) AS r`,
  approvalRules: `SELECT api.approval_rules(${placeholders(4)}) AS r`,
  changeRequests: `SELECT api.change_requests(${placeholders(12, { 10: '::bigint', 11: '::integer' })}) AS r`,
  changeRequest: `SELECT api.change_request_get(${placeholders(9, { 8: '::bigint' })}) AS r`,
  approve: `SELECT api.change_request_approve(${placeholders(11, { 8: '::bigint', 9: '::integer' })}) AS r`,
  reject: `SELECT api.change_request_reject(${placeholders(11, { 8: '::bigint', 9: '::integer' })}) AS r`,
  withdraw: `SELECT api.change_request_withdraw(${placeholders(10, { 8: '::bigint' })}) AS r`,
  staffSeen: 'SELECT api.staff_seen($1::jsonb) AS r',
  self: `SELECT api.self_organization(${placeholders(9)}) AS r`,
  selfUpdate: `SELECT api.self_organization_update(${placeholders(11, { 9: '::integer', 10: '::jsonb' })}) AS r`,
  selfBilling: `SELECT api.self_billing_replace(${placeholders(14, { 12: '::integer', 13: '::integer' })}) AS r`,
  staffList: `SELECT api.staff_list(${placeholders(4)}) AS r`,
  assignments: `SELECT api.assignments_apply(${placeholders(12, { 8: '::text[]' })}) AS r`,
  announce: 'SELECT api.announce_changes($1::text[]) AS r',
} as const;

export interface OpenStoreOptions {
  /** The API's connection string (role cims_api). */
  databaseUrl: string;
  /** The migrator's connection string; when given, migrations run first. */
  migrationUrl?: string;
  /** Pool size (default 10). */
  poolSize?: number;
  /** How often to seal the audit chain in the background, ms (default 200; 0 turns it off). */
  sealIntervalMs?: number;
  /** Called when a background seal fails (the next one retries), or announcing changes does. */
  onBackgroundError?: (err: unknown) => void;
  /** Called when an idle pooled connection breaks (the database restarted); default: one line on stderr. */
  onIdleConnectionError?: (err: Error) => void;
  /**
   * The connection goes through a pooler in transaction mode (PgBouncer before 1.21): statements
   * are sent unnamed, since the next transaction may run on a server connection that never saw
   * a named one prepared. Default false (named prepared statements, parsed once per connection).
   */
  transactionPooler?: boolean;
}

/** The store's own settings, whatever connection it runs on. */
export type StoreTuning = Pick<OpenStoreOptions, 'sealIntervalMs' | 'onBackgroundError'>;

/** One record read, as `api.customer_read` takes it. */
interface RecordRead {
  sub: string;
  name: string;
  roles: string[];
  scopes: string[];
  requestId: string;
  clientRequestId: string | null;
  clientAddress: string | null;
  appVersion: string | null;
  orgId: string;
}

/** One edit, as `api.customer_update_many` takes it. */
interface RecordEdit extends RecordRead {
  expectedVersion: number;
  changes: Partial<CustomerFields>;
  reason: string;
  revertOf?: string;
}

const recordRequest = (actor: Actor, ctx: RequestContext, orgId: string): RecordRead => ({
  sub: actor.sub,
  name: actor.name,
  roles: actor.roles,
  scopes: actor.scopes,
  requestId: ctx.requestId,
  clientRequestId: clientId(ctx),
  clientAddress: ctx.clientAddress,
  appVersion: ctx.appVersion,
  orgId,
});

/** What a batch function says about each item: `{detail}`, or the error a single call would have raised. */
const RecordOutcomes = z.array(z.record(z.string(), z.unknown()));
const RecordFailure = z.strictObject({ code: z.string(), message: z.string(), constraint: z.string().nullable().optional() });

function toOutcomes(result: unknown): Outcome<EditOutcome>[] {
  return RecordOutcomes.parse(result).map((r) => {
    if ('detail' in r) return { value: parseOnce(CustomerDetail, r.detail) };
    if ('changeRequest' in r) return { value: ChangeRequestAccepted.parse(r) };
    const f = RecordFailure.parse(r);
    return { error: toStoreError(Object.assign(new Error(f.message), { code: f.code, constraint: f.constraint ?? undefined })) };
  });
}

/** Whether any string in it, key or value, is text PostgreSQL cannot store. */
function holdsUnstorableText(v: unknown): boolean {
  if (typeof v === 'string') return !isStorableText(v);
  if (Array.isArray(v)) return v.some(holdsUnstorableText);
  if (typeof v === 'object' && v !== null) return Object.entries(v).some(([k, x]) => !isStorableText(k) || holdsUnstorableText(x));
  return false;
}

/**
 * One call of a record batch function, built so that no input of one request can change another
 * request's answer: each item is checked and serialized on its own, and one the database could
 * not take fails alone before the batch is sent. Should the batch still be refused as a whole for
 * its input, each item runs again alone, in order; the refused call committed nothing.
 */
async function runRecordBatch(call: (batchJson: string) => Promise<unknown>, items: readonly object[]): Promise<Outcome<EditOutcome>[]> {
  const outcomes: (Outcome<EditOutcome> | undefined)[] = items.map((item) =>
    holdsUnstorableText(item) ? { error: new StoreError('validation', 'a text holds characters that cannot be stored') } : undefined,
  );
  const sent = items.flatMap((item, i) => (outcomes[i] ? [] : [{ i, json: JSON.stringify(item) }]));
  const run = async (part: typeof sent) => toOutcomes(await call(`[${part.map((p) => p.json).join(',')}]`));
  let results: Outcome<EditOutcome>[] = [];
  try {
    if (sent.length > 0) results = await run(sent);
  } catch (err) {
    if (sent.length === 1 || !(err instanceof StoreError && err.kind === 'validation')) throw err;
    results = [];
    for (const p of sent) results.push(await run([p]).then((r) => r[0] ?? { error: err }, (e: unknown) => ({ error: e })));
  }
  if (results.length !== sent.length) throw new Error(`a batch of ${sent.length} returned ${results.length} outcomes`);
  sent.forEach((p, k) => (outcomes[p.i] = results[k]));
  return outcomes.map((o) => o ?? { error: new Error('a batch item got no outcome') });
}

export class PgStore implements Store {
  private readonly reads: Batcher<RecordRead, CustomerDetail>;
  private readonly edits: Batcher<RecordEdit, EditOutcome>;
  private readonly sealTimer: NodeJS.Timeout | null;
  /** The audit trail's rows: sealing, checkpoints, verification (src/audit/). */
  readonly audit: AuditRows;
  private readonly announcer: Announcer;
  private sealsPending = 0;
  private closed = false;

  constructor(
    private readonly db: Db,
    /** What the store runs on, for the start-up log: 'postgres', or the embedding's own name. */
    readonly kind: string,
    opts: StoreTuning = {},
  ) {
    // One batch of each in flight: requests that arrive while it runs make the next one bigger,
    // which is what makes them cheap. Benchmark, 10 connections, medians of 3 rounds: about 3,600
    // reads/s with one in flight, 3,300 with two (smaller batches, more database work per read).
    const batches = { maxInFlight: 1, maxBatch: 100 };
    this.audit = new AuditRows((name, text, values) => this.call(name, text, values));
    this.announcer = new Announcer({
      send: (ids) => this.call('announce', SQL.announce, [ids]),
      onError: (err) => opts.onBackgroundError?.(new Error(`announcing committed changes failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err })),
    });
    // A read's outcome is always a record: the database answers a read with {detail} or an error only.
    this.reads = new Batcher(
      async (items) => (await runRecordBatch((json) => this.call('read', SQL.read, [json]), items)) as Outcome<CustomerDetail>[],
      batches,
    );
    this.edits = new Batcher(async (items) => {
      const outcomes = await runRecordBatch((json) => this.call('edit', SQL.edit, [json]), items);
      this.announcer.queue(items.map((i) => i.requestId)); // a failed edit left no event to announce
      return outcomes;
    }, batches);
    const every = opts.sealIntervalMs ?? 200;
    this.sealTimer =
      every > 0
        ? setInterval(() => {
            if (this.sealsPending > 0) return; // the previous one is still running: skip a beat
            this.sealsPending++;
            this.sealAudit()
              .catch((e: unknown) => opts.onBackgroundError?.(e))
              .finally(() => this.sealsPending--);
          }, every)
        : null;
    this.sealTimer?.unref();
  }

  private async call(name: string, text: string, values: unknown[]): Promise<unknown> {
    try {
      return await this.db.call(name, text, values);
    } catch (err) {
      throw toStoreError(err);
    }
  }

  /** A call that may write audit events: once it returned (committed), its request is announced. */
  private async write(ctx: RequestContext, name: keyof typeof SQL, values: unknown[]): Promise<unknown> {
    const r = await this.call(name, SQL[name], values);
    this.announcer.queue([ctx.requestId]);
    return r;
  }

  async ping(): Promise<void> {
    await this.call('ping', 'SELECT 1 AS r', []);
  }

  async searchCustomers(actor: Actor, ctx: RequestContext, query: ParsedCustomerListQuery): Promise<CustomerListPage> {
    const after = query.cursor ? decodeCursor(SearchCursor, query.cursor) : null;
    if (after && after.s !== query.sort) throw new StoreError('validation', 'the cursor belongs to another sort order');
    const r = SearchResult.parse(
      await this.call('search', SQL.search, [
        ...actorParams(actor),
        ...ctxParams(ctx),
        query.q ?? null,
        query.owner === 'me',
        query.renewalWithinDays ?? null,
        query.minChurnRisk ?? null,
        query.includeArchived ?? false,
        query.sort,
        after?.k ?? null,
        after?.i ?? null,
        query.limit,
        clientId(ctx),
      ]),
    );
    return {
      items: r.items,
      nextCursor: r.next ? encodeCursor({ s: query.sort, k: r.next.key, i: r.next.id }) : null,
      ...(r.tooBroad ? { tooBroad: true as const } : {}),
    };
  }

  getCustomer(actor: Actor, ctx: RequestContext, orgId: string): Promise<CustomerDetail> {
    return this.reads.submit(recordRequest(actor, ctx, orgId));
  }

  async createCustomer(actor: Actor, ctx: RequestContext, input: CustomerCreate): Promise<CustomerDetail> {
    const { orgId, ...fields } = input.customer;
    return parseOnce(
      CustomerDetail,
      await this.write(ctx, 'create', [...actorParams(actor), ...ctxParams(ctx), orgId, JSON.stringify(fields), input.reason, clientId(ctx)]),
    );
  }

  updateCustomer(
    actor: Actor,
    ctx: RequestContext,
    orgId: string,
    expectedVersion: number,
    changes: Partial<CustomerFields>,
    reason: string,
    revertOf?: string,
  ): Promise<EditOutcome> {
    return this.edits.submit({ ...recordRequest(actor, ctx, orgId), expectedVersion, changes, reason, ...(revertOf ? { revertOf } : {}) });
  }

  async archiveCustomer(
    actor: Actor,
    ctx: RequestContext,
    orgId: string,
    expectedVersion: number | null,
    reason: string,
  ): Promise<EditOutcome> {
    return editOutcome(await this.write(ctx, 'archive', [...actorParams(actor), ...ctxParams(ctx), orgId, expectedVersion, reason, clientId(ctx)]));
  }

  async unarchiveCustomer(actor: Actor, ctx: RequestContext, orgId: string, expectedVersion: number | null, reason: string): Promise<EditOutcome> {
    return editOutcome(await this.write(ctx, 'unarchive', [...actorParams(actor), ...ctxParams(ctx), orgId, expectedVersion, reason, clientId(ctx)]));
  }

  async approvalRules(actor: Actor): Promise<ApprovalRules> {
    return ApprovalRules.parse(await this.call('approvalRules', SQL.approvalRules, actorParams(actor)));
  }

  async changeRequests(actor: Actor, ctx: RequestContext, query: ParsedChangeRequestQuery): Promise<ChangeRequestPage> {
    const before = query.cursor ? decodeCursor(AuditCursor, query.cursor).b : null;
    const r = ChangeRequestResult.parse(
      await this.write(ctx, 'changeRequests', [
        ...actorParams(actor),
        ...ctxParams(ctx),
        query.status ?? null,
        query.orgId ?? null,
        before,
        query.limit,
        clientId(ctx),
      ]),
    );
    return { items: r.items, nextCursor: r.next ? encodeCursor({ b: r.next }) : null };
  }

  async changeRequest(actor: Actor, ctx: RequestContext, id: string): Promise<ChangeRequest> {
    return ChangeRequest.parse(await this.write(ctx, 'changeRequest', [...actorParams(actor), ...ctxParams(ctx), id, clientId(ctx)]));
  }

  async approveChangeRequest(actor: Actor, ctx: RequestContext, id: string, expectedVersion: number, reason: string): Promise<ChangeRequest> {
    return ChangeRequest.parse(
      await this.write(ctx, 'approve', [...actorParams(actor), ...ctxParams(ctx), id, expectedVersion, reason, clientId(ctx)]),
    );
  }

  async rejectChangeRequest(actor: Actor, ctx: RequestContext, id: string, expectedVersion: number, reason: string): Promise<ChangeRequest> {
    return ChangeRequest.parse(
      await this.write(ctx, 'reject', [...actorParams(actor), ...ctxParams(ctx), id, expectedVersion, reason, clientId(ctx)]),
    );
  }

  async withdrawChangeRequest(actor: Actor, ctx: RequestContext, id: string, reason: string): Promise<ChangeRequest> {
    return ChangeRequest.parse(await this.write(ctx, 'withdraw', [...actorParams(actor), ...ctxParams(ctx), id, reason, clientId(ctx)]));
  }

  async portfolioSummary(actor: Actor): Promise<PortfolioSummary> {
    const n = PortfolioCounts.parse(
      await this.call('portfolio', SQL.portfolio, [...actorParams(actor), HIGH_CHURN_RISK, RENEWAL_SOON_DAYS]),
    );
    return { customers: n.customers, highChurnRisk: n.highChurnRisk, renewingWithin30Days: n.renewingSoon, asOf: n.asOf };
  }

  async usage(actor: Actor, ctx: RequestContext, orgId: string, from: string, to: string): Promise<UsageDay[]> {
    return z.array(UsageDay).parse(await this.call('usage', SQL.usage, [...actorParams(actor), ...ctxParams(ctx), orgId, from, to, clientId(ctx)]));
  }

  async predictions(actor: Actor, ctx: RequestContext, orgId: string): Promise<Prediction[]> {
    return z.array(Prediction).parse(await this.call('predictions', SQL.predictions, [...actorParams(actor), ...ctxParams(ctx), orgId, clientId(ctx)]));
  }

  async predictionFeedback(actor: Actor, ctx: RequestContext, orgId: string, feedback: PredictionFeedback): Promise<PredictionFeedbackReceipt> {
    return PredictionFeedbackReceipt.parse(
      await this.write(ctx, 'predictionFeedback', [...actorParams(actor), ...ctxParams(ctx), orgId, JSON.stringify(feedback), clientId(ctx)]),
    );
  }

  async customerAudit(actor: Actor, ctx: RequestContext, orgId: string, cursor: string | undefined, limit: number): Promise<AuditPage> {
    const before = cursor ? decodeCursor(AuditCursor, cursor).b : null;
    // No seal first: seals run one at a time, so a seal per page queued every history request
    // behind all the others' (bench: 44-195 pages/s). Unsealed events show without their link.
    const r = AuditResult.parse(
      await this.call('customerAudit', SQL.customerAudit, [...actorParams(actor), ...ctxParams(ctx), orgId, before, limit, clientId(ctx)]),
    );
    return { items: r.items, nextCursor: r.next ? encodeCursor({ b: r.next }) : null };
  }

  async auditExport(actor: Actor, ctx: RequestContext, filters: AuditFilters): Promise<AuditExport> {
    await this.sealAudit(); // an export starts from a sealed trail
    const r = ExportResult.parse(
      await this.call('auditExport', SQL.auditExport, [
        ...actorParams(actor),
        ...ctxParams(ctx),
        filters.actor ?? null,
        filters.orgId ?? null,
        filters.action ?? null,
        filters.field ?? null,
        filters.from ?? null,
        filters.to ?? null,
        clientId(ctx),
      ]),
    );
    return { events: r.events, rows: r.rows, cursor: r.events > 0 ? encodeCursor({ x: r.exportId, b: null }) : null };
  }

  async auditExportPage(actor: Actor, cursor: string, limit: number): Promise<AuditPage> {
    const { x, b } = decodeCursor(ExportCursor, cursor);
    const r = AuditResult.parse(await this.call('auditExportPage', SQL.auditExportPage, [...actorParams(actor), x, b, limit]));
    return { items: r.items, nextCursor: r.next ? encodeCursor({ x, b: r.next }) : null };
  }

  async customerAccess(actor: Actor, orgId: string, cursor: string | undefined, limit: number): Promise<AccessPage> {
    const before = cursor ? decodeCursor(AuditCursor, cursor).b : null;
    const r = AccessResult.parse(await this.call('customerAccess', SQL.customerAccess, [...actorParams(actor), orgId, before, limit]));
    return { items: r.items, nextCursor: r.next ? encodeCursor({ b: r.next }) : null };
  }

  async accessEvents(actor: Actor, query: ParsedAccessQuery): Promise<AccessPage> {
    const before = query.cursor ? decodeCursor(AuditCursor, query.cursor).b : null;
    const r = AccessResult.parse(
      await this.call('accessEvents', SQL.accessEvents, [
        ...actorParams(actor),
        query.user ?? null,
        query.orgId ?? null,
        query.from ?? null,
        query.to ?? null,
        before,
        query.limit,
      ]),
    );
    return { items: r.items, nextCursor: r.next ? encodeCursor({ b: r.next }) : null };
  }

  async auditEvents(actor: Actor, ctx: RequestContext, query: ParsedAuditQuery): Promise<AuditPage> {
    const before = query.cursor ? decodeCursor(AuditCursor, query.cursor).b : null;
    if (!before) await this.sealAudit(); // a review starts from a sealed trail
    const r = AuditResult.parse(
      await this.call('auditEvents', SQL.auditEvents, [
        ...actorParams(actor),
        ...ctxParams(ctx),
        query.actor ?? null,
        query.orgId ?? null,
        query.action ?? null,
        query.field ?? null,
        query.from ?? null,
        query.to ?? null,
        before,
        query.limit,
        clientId(ctx),
      ]),
    );
    return { items: r.items, nextCursor: r.next ? encodeCursor({ b: r.next }) : null };
  }

  /**
   * Links every audit event whose transaction has finished into the hash chain; returns how many
   * were sealed. Calls run one after another, so a call made after a write has committed always
   * sees that write; another API process holding the sealing lock makes a call skip, never wait.
   */
  sealAudit(): Promise<number> {
    if (this.closed) return Promise.resolve(0);
    return this.audit.seal();
  }

  async ingestPredictions(actor: Actor, ctx: RequestContext, batch: PredictionBatch): Promise<PredictionBatchResult> {
    return PredictionBatchResult.parse(
      await this.write(ctx, 'ingest', [...actorParams(actor), ...ctxParams(ctx), JSON.stringify(batch.predictions), clientId(ctx)]),
    );
  }

  async selfOrganization(actor: Actor, ctx: RequestContext): Promise<SelfOrganization> {
    return parseOnce(SelfOrganization, await this.call('self', SQL.self, [...actorParams(actor), ...ctxParams(ctx), actor.org ?? null, clientId(ctx)]));
  }

  async updateSelfOrganization(
    actor: Actor,
    ctx: RequestContext,
    expectedVersion: number,
    changes: Partial<SelfContactFields>,
  ): Promise<SelfOrganization> {
    return parseOnce(
      SelfOrganization,
      await this.write(ctx, 'selfUpdate', [
        ...actorParams(actor),
        ...ctxParams(ctx),
        actor.org ?? null,
        expectedVersion,
        JSON.stringify(changes),
        clientId(ctx),
      ]),
    );
  }

  async replaceBillingMethod(actor: Actor, ctx: RequestContext, m: BillingMethodReplace): Promise<SelfOrganization> {
    return parseOnce(
      SelfOrganization,
      await this.write(ctx, 'selfBilling', [
        ...actorParams(actor),
        ...ctxParams(ctx),
        actor.org ?? null,
        m.processorToken,
        m.brand,
        m.last4,
        m.expMonth,
        m.expYear,
        clientId(ctx),
      ]),
    );
  }

  async staffSeen(people: readonly StaffSighting[]): Promise<number> {
    if (people.length === 0) return 0;
    const sightings = people.map((p) => ({ sub: p.sub, name: p.name, roles: p.roles }));
    return z.int().min(0).parse(await this.call('staffSeen', SQL.staffSeen, [JSON.stringify(sightings)]));
  }

  async staffList(actor: Actor): Promise<StaffList> {
    return StaffList.parse(await this.call('staffList', SQL.staffList, actorParams(actor)));
  }

  async applyAssignment(actor: Actor, ctx: RequestContext, request: AssignmentRequest): Promise<AssignmentResult> {
    return AssignmentResult.parse(
      await this.write(ctx, 'assignments', [
        ...actorParams(actor),
        ...ctxParams(ctx),
        'orgIds' in request ? request.orgIds : null,
        'fromOwner' in request ? request.fromOwner : null,
        request.toOwner,
        request.reason,
        clientId(ctx),
      ]),
    );
  }

  async close(): Promise<void> {
    if (this.sealTimer) clearInterval(this.sealTimer);
    this.closed = true;
    await this.audit.idle();
    await this.announcer.idle();
    await this.db.close();
  }
}

/**
 * The store the API uses: PostgreSQL as cims_api (run migrations beforehand with
 * `migrate(adminUrl)` or pass `migrationUrl`). A bare string is taken as `databaseUrl`.
 */
export async function openStore(options: OpenStoreOptions | string): Promise<PgStore> {
  const opts: OpenStoreOptions = typeof options === 'string' ? { databaseUrl: options } : options;
  if (!opts.databaseUrl) throw new Error('openStore needs databaseUrl: the API runs on PostgreSQL only.');
  checkDatabaseUrl('the API database URL', opts.databaseUrl);
  if (opts.migrationUrl) await migrate(opts.migrationUrl);
  const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: opts.poolSize ?? 10 });
  // A pool emits 'error' when an idle connection breaks (a database restart or failover); with no
  // listener that ends the process. The pool drops that connection and the next query opens a new one.
  pool.on('error', opts.onIdleConnectionError ?? ((err) => console.error(`cims-api: an idle database connection broke (${err.message}); it is replaced on next use`)));
  return new PgStore(new PoolDb(pool, !opts.transactionPooler), 'postgres', opts);
}
