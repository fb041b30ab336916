// The channel table: everything the renderer can ask the main process for.
// The preload allows exactly these names; the main process validates input and
// output of each with these schemas; the renderer is typed from them.
import { z } from 'zod';
import {
  AccessPage,
  AccessQuery,
  ApprovalRules,
  ArchiveRequest,
  AssignmentRequest,
  AssignmentResult,
  AuditPage,
  AuditQuery,
  AuditVerifyQuery,
  AuditVerifyResult,
  ChangeDecision,
  ChangeRequest,
  ChangeRequestAccepted,
  ChangeRequestId,
  ChangeRequestPage,
  ChangeRequestQuery,
  CustomerCreate,
  CustomerDetail,
  CustomerFields,
  CustomerListPage,
  CustomerListQuery,
  Cursor,
  EventId,
  Me,
  OrgId,
  PortfolioSummary,
  Prediction,
  PredictionFeedback,
  PredictionFeedbackReceipt,
  Reason,
  StaffList,
  UsageDay,
} from './api';
import { KeyId } from './audit';
import { EvidenceQuery } from './evidence';
import { LiveChange } from './live';

export const SessionStatus = z.enum(['signedOut', 'signingIn', 'signedIn', 'locked']);
export type SessionStatus = z.infer<typeof SessionStatus>;

export const SessionState = z.strictObject({
  status: SessionStatus,
  /** Who the app signs in with: shown on the sign-in screen. */
  issuer: z.string(),
  user: Me.nullable(),
  /** Why the session ended or sign-in failed, in words a CRM understands. */
  message: z.string().nullable(),
  /** While signing in: the link to copy if the system browser did not open. */
  signInUrl: z.string().nullable(),
  /** While signing in: when the attempt gives up. */
  signInDeadline: z.string().nullable(),
});
export type SessionState = z.infer<typeof SessionState>;

export const IpcErrorCode = z.enum([
  'unauthenticated', // no session, or it could not be restored: sign in again
  'locked', // the console is locked for inactivity: unlock first
  'forbidden', // 403: the role or assignment does not allow it
  'not_found',
  'conflict', // 412: someone else changed the record
  'validation', // 400/422: input refused, with field errors
  'rate_limited',
  'unavailable', // the API or identity provider could not be reached
  'busy', // 503 busy: the API was reached but asked to retry later (Retry-After)
  'cancelled',
  'internal',
]);
export type IpcErrorCode = z.infer<typeof IpcErrorCode>;

export const IpcError = z.strictObject({
  code: IpcErrorCode,
  message: z.string(),
  status: z.int().optional(),
  requestId: z.string().optional(),
  fieldErrors: z.array(z.strictObject({ path: z.string(), message: z.string() })).optional(),
});
export type IpcError = z.infer<typeof IpcError>;

const Empty = z.strictObject({});
const ForOrg = z.strictObject({ orgId: OrgId });

export const CustomerUpdate = z.strictObject({
  orgId: OrgId,
  /** The version the CRM edited: sent as If-Match. */
  version: z.int().min(1),
  changes: CustomerFields.partial().refine((c) => Object.keys(c).length > 0, 'Change at least one field'),
  reason: Reason,
  /** "Revert this change": the history event this edit undoes. */
  revertOf: EventId.optional(),
});
export type CustomerUpdate = z.infer<typeof CustomerUpdate>;

/** An edit, archive or un-archive: the new record, or the change request it waits in (the record is unchanged). */
export const EditOutcome = z.union([CustomerDetail, ChangeRequestAccepted]);
export type EditOutcome = z.infer<typeof EditOutcome>;
const StatusChange = ForOrg.extend(ArchiveRequest.shape).extend({ version: z.int().min(1) });
const ForChangeRequest = z.strictObject({ id: ChangeRequestId });

export const AuditExportResult = z.strictObject({
  /** Null when the user cancelled the save dialog. */
  path: z.string().nullable(),
  rows: z.int().min(0),
});

/** A checkpoint this console verified and remembers, and when it first did. */
export const WitnessedCheckpoint = z.strictObject({
  seq: z.int().min(1),
  signedAt: z.iso.datetime({ offset: true }),
  keyId: KeyId,
  verifiedAt: z.iso.datetime({ offset: true }),
});
export type WitnessedCheckpoint = z.infer<typeof WitnessedCheckpoint>;

/**
 * What the console itself concluded (electron/core/witness.ts), with keys from IT's policy only.
 * It can contradict the API: a trail cut back to before a checkpoint this console saw is damaged
 * even when the database and the API agree with each other.
 */
export const AuditWitnessReport = z.discriminatedUnion('status', [
  /** The policy lists no auditPublicKeys: no signature was checked and nothing is remembered. */
  z.strictObject({ status: z.literal('not_configured') }),
  /** The newest checkpoint (if any) verifies with a trusted key; the remembered one is still there, unchanged. */
  z.strictObject({ status: z.literal('ok'), remembered: WitnessedCheckpoint.nullable() }),
  /** A checkpoint this console verified is gone (`missing`), differs (`changed`), or the trail's newest is older than it (`rolled_back`). */
  z.strictObject({ status: z.literal('damaged'), reason: z.enum(['missing', 'changed', 'rolled_back']), remembered: WitnessedCheckpoint }),
  /** The newest checkpoint is signed by a key that is not in IT's policy. */
  z.strictObject({ status: z.literal('untrusted_key'), seq: z.int().min(1), keyId: KeyId }),
  /** The newest checkpoint's signature does not verify with its (trusted) key, or it is not the checkpoint verify reported. */
  z.strictObject({ status: z.literal('bad_signature'), seq: z.int().min(1), keyId: KeyId }),
]);
export type AuditWitnessReport = z.infer<typeof AuditWitnessReport>;

/** The API's verification of the trail, and the console's own check of the signed checkpoints. */
export const AuditVerifyOutcome = z.strictObject({ trail: AuditVerifyResult, witness: AuditWitnessReport });
export type AuditVerifyOutcome = z.infer<typeof AuditVerifyOutcome>;

// A union of strict objects refuses an unknown field only as invalid_union, naming none. One
// strict object of both options' fields names it; then the union decides which move it is. (Not
// .pipe(): zod lets an unrecognized key through a pipe, and the union's result then drops it.)
const [listedCustomers, wholePortfolio] = AssignmentRequest.options;
const AssignmentApply = z
  .strictObject({
    orgIds: listedCustomers.shape.orgIds.optional(),
    fromOwner: wholePortfolio.shape.fromOwner.optional(),
    toOwner: listedCustomers.shape.toOwner,
    reason: listedCustomers.shape.reason,
  })
  .transform((fields, ctx): AssignmentRequest => {
    const request = AssignmentRequest.safeParse(fields);
    if (request.success) return request.data;
    for (const issue of request.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
    return z.NEVER;
    // It takes exactly what the union takes, so callers see the union's type.
  }) as z.ZodType<AssignmentRequest, z.input<typeof AssignmentRequest>>;

export const channels = {
  'session:get': { input: Empty, output: SessionState },
  'session:signIn': { input: Empty, output: SessionState },
  'session:cancelSignIn': { input: Empty, output: SessionState },
  'session:signOut': { input: Empty, output: SessionState },
  /** The renderer reports user activity (throttled) so the inactivity lock knows. */
  'session:activity': { input: Empty, output: z.null() },
  'customers:list': { input: CustomerListQuery, output: CustomerListPage },
  'customers:get': { input: ForOrg, output: CustomerDetail },
  'customers:create': { input: CustomerCreate, output: CustomerDetail },
  'customers:update': { input: CustomerUpdate, output: EditOutcome },
  'customers:archive': { input: StatusChange, output: EditOutcome },
  'customers:unarchive': { input: StatusChange, output: EditOutcome },
  'customers:usage': { input: ForOrg.extend({ days: z.union([z.literal(90), z.literal(180)]) }), output: z.array(UsageDay) },
  'customers:predictions': { input: ForOrg, output: z.array(Prediction) },
  /** A CRM's "looks wrong" on one of the record's predictions, with a reason. */
  'customers:predictionFeedback': { input: ForOrg.extend({ feedback: PredictionFeedback }), output: PredictionFeedbackReceipt },
  'customers:audit': { input: ForOrg.extend({ cursor: Cursor.optional() }), output: AuditPage },
  /** Who viewed this record (support leads). */
  'customers:access': { input: ForOrg.extend({ cursor: Cursor.optional() }), output: AccessPage },
  'portfolio:summary': { input: Empty, output: PortfolioSummary },
  /** Admins: the staff directory, and moving customers to another CRM. */
  'staff:list': { input: Empty, output: StaffList },
  'assignments:apply': { input: AssignmentApply, output: AssignmentResult },
  'approvals:rules': { input: Empty, output: ApprovalRules },
  'approvals:list': { input: ChangeRequestQuery, output: ChangeRequestPage },
  'approvals:get': { input: ForChangeRequest, output: ChangeRequest },
  /** `version`: the request's, sent as If-Match. */
  'approvals:approve': { input: ForChangeRequest.extend(ChangeDecision.shape).extend({ version: z.int().min(1) }), output: ChangeRequest },
  'approvals:reject': { input: ForChangeRequest.extend(ChangeDecision.shape).extend({ version: z.int().min(1) }), output: ChangeRequest },
  'approvals:withdraw': { input: ForChangeRequest.extend(ChangeDecision.shape), output: ChangeRequest },
  'audit:events': { input: AuditQuery, output: AuditPage },
  'audit:exportCsv': { input: AuditQuery.omit({ cursor: true, limit: true }), output: AuditExportResult },
  'audit:verify': { input: AuditVerifyQuery, output: AuditVerifyOutcome },
  'audit:access': { input: AccessQuery, output: AccessPage },
  /** Progress comes as audit:exportProgress, as for the audit export. */
  'audit:exportAccessCsv': { input: AccessQuery.omit({ cursor: true, limit: true }), output: AuditExportResult },
  /** The evidence bundle for auditors (shared/evidence.ts) to a file; `rows` are its records; progress as audit:exportProgress. */
  'audit:exportEvidence': { input: EvidenceQuery, output: AuditExportResult },
  'diagnostics:exportLogs': { input: Empty, output: z.strictObject({ path: z.string().nullable() }) },
} as const;

export type Channel = keyof typeof channels;
export const CHANNEL_NAMES = Object.keys(channels) as Channel[];
export type ChannelInput<C extends Channel> = z.input<(typeof channels)[C]['input']>;
export type ChannelOutput<C extends Channel> = z.infer<(typeof channels)[C]['output']>;

/** What crosses the bridge: data or a typed error, never a stack trace. */
export type IpcResult<T> = { ok: true; data: T } | { ok: false; error: IpcError };
export const ipcResult = <T extends z.ZodType>(data: T) =>
  z.discriminatedUnion('ok', [
    z.strictObject({ ok: z.literal(true), data }),
    z.strictObject({ ok: z.literal(false), error: IpcError }),
  ]);

/** Events the main process pushes to the renderer. */
export const events = {
  'session:changed': SessionState,
  /** Records written so far, and bytes (received by the main process). */
  'audit:exportProgress': z.strictObject({ rows: z.int().min(0), done: z.boolean(), bytes: z.int().min(0).optional() }),
  'api:connectivity': z.strictObject({ reachable: z.boolean() }),
  /** Someone's change the signed-in user may read (the change stream, shared/live.ts): ids, version, who, field names. */
  'live:change': LiveChange,
  /** Changes may have been missed (a gap the API could not replay): refetch what is shown. */
  'live:reset': z.strictObject({}),
  /** The change stream: `live` while connected, `paused` while it reconnects, `off` while signed out or locked. */
  'live:status': z.strictObject({ state: z.enum(['live', 'paused', 'off']) }),
} as const;
export type EventName = keyof typeof events;
export const EVENT_NAMES = Object.keys(events) as EventName[];
export type EventPayload<E extends EventName> = z.infer<(typeof events)[E]>;

/** The bridge the preload exposes as `window.cims`: nothing else. */
export interface CimsBridge {
  invoke<C extends Channel>(channel: C, input: ChannelInput<C>): Promise<IpcResult<ChannelOutput<C>>>;
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
}
