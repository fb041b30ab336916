// The HTTP contract: every endpoint of the API, declared once. The Fastify
// routes are registered from it, the console's API client builds its requests
// from it, and the OpenAPI document is generated from it (docs/http-contract.md).
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
  BillingMethodReplace,
  ChangeDecision,
  ChangeRequest,
  ChangeRequestAccepted,
  ChangeRequestId,
  ChangeRequestPage,
  ChangeRequestQuery,
  CustomerCreate,
  CustomerDetail,
  CustomerListPage,
  CustomerListQuery,
  CustomerPatch,
  Cursor,
  Me,
  OrgId,
  PortfolioSummary,
  Prediction,
  PredictionBatch,
  PredictionBatchResult,
  PredictionFeedback,
  PredictionFeedbackReceipt,
  Problem,
  SelfOrganization,
  SelfOrganizationPatch,
  StaffList,
  UsageDay,
  UsageQuery,
  type Role,
} from './api';
import { SignedCheckpoint } from './audit';
import { EVIDENCE_CONTENT_TYPE, EvidenceQuery } from './evidence';
import { EVENTS_CONTENT_TYPE } from './live';

/**
 * Who may call an endpoint:
 * - `public`: no token needed (health, the OpenAPI document).
 * - `human`: any signed-in person, whatever their roles (not a service account).
 * - `service`: service accounts with `predictions:write` only, never a person.
 * - a list of roles: a person holding at least one of them. `customer` (a customer's contact,
 *   through the portal's client) reaches only the endpoints that name it, and those only.
 */
export type Access = 'public' | 'human' | 'service' | readonly Role[];

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT';

export interface Endpoint {
  readonly method: HttpMethod;
  /** The full path; `:name` segments are path parameters, declared in `params`. */
  readonly path: string;
  readonly summary: string;
  readonly access: Access;
  readonly params?: z.ZodType;
  readonly query?: z.ZodType;
  readonly body?: z.ZodType;
  /** Needs `If-Match: "<version>"` (428 without it, 412 when stale). */
  readonly ifMatch?: boolean;
  /** The success body's content type when it is not JSON; the body is then streamed. */
  readonly produces?: 'text/csv' | 'application/x-ndjson' | 'text/event-stream';
  /**
   * One 2xx status, the first declared, is the usual answer; a second (202 Accepted: the change waits
   * for approval) may be declared beside it. Every other status answers with a Problem.
   */
  readonly responses: Readonly<Record<number, z.ZodType>>;
}

/** Problem responses for the given statuses. */
function problems<const C extends readonly number[]>(...codes: C): Record<C[number], typeof Problem> {
  return Object.fromEntries(codes.map((c) => [c, Problem])) as Record<C[number], typeof Problem>;
}

/** Errors any authenticated route can answer with. */
const AUTHENTICATED = [400, 401, 403, 429, 500, 503] as const;
/** And a write with a JSON body. */
const WRITE = [...AUTHENTICATED, 413, 415] as const;

const READERS = ['crm', 'support_lead', 'admin'] as const;
const REVIEWERS = ['support_lead'] as const;
/** Days of usage a request without `from` covers. */
export const USAGE_DEFAULT_DAYS = 90;

export const OrgParams = z.strictObject({ orgId: OrgId });
export const ChangeRequestParams = z.strictObject({ id: ChangeRequestId });
/** A checkpoint's seq in a path, as decimal digits. */
export const CheckpointParams = z.strictObject({ seq: z.string().regex(/^[1-9][0-9]{0,14}$/) });
export const CustomerAuditQuery = z.strictObject({
  cursor: Cursor.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export const AuditCsvQuery = AuditQuery.omit({ cursor: true, limit: true });
export const AccessCsvQuery = AccessQuery.omit({ cursor: true, limit: true });
const Status = z.strictObject({ status: z.literal('ok') });

// `satisfies` keeps each entry's literal type (for inference) and checks it is an Endpoint.
export const endpoints = {
  'system.health': {
    method: 'GET',
    path: '/healthz',
    summary: 'Liveness',
    access: 'public',
    responses: { 200: Status, ...problems(500) },
  },
  'system.ready': {
    method: 'GET',
    path: '/readyz',
    summary: 'Readiness: the database answers',
    access: 'public',
    responses: { 200: Status, ...problems(500, 503) },
  },
  'system.me': {
    method: 'GET',
    path: '/v1/me',
    summary: 'Who the API thinks you are',
    access: 'human',
    responses: { 200: Me, ...problems(...AUTHENTICATED) },
  },
  'system.openapi': {
    method: 'GET',
    path: '/v1/openapi.json',
    summary: 'This document',
    access: 'public',
    responses: { 200: z.record(z.string(), z.unknown()), ...problems(500) },
  },
  'customers.list': {
    method: 'GET',
    path: '/v1/customers',
    summary: 'Search customers (archived ones only with includeArchived=true); records one access event per page',
    access: READERS,
    query: CustomerListQuery,
    responses: { 200: CustomerListPage, ...problems(...AUTHENTICATED) },
  },
  'customers.get': {
    method: 'GET',
    path: '/v1/customers/:orgId',
    summary: 'The whole customer record (billing masked); records an access event',
    access: READERS,
    params: OrgParams,
    responses: { 200: CustomerDetail, ...problems(...AUTHENTICATED, 404) },
  },
  'customers.create': {
    method: 'POST',
    path: '/v1/customers',
    summary: 'Create a customer, owned by the calling CRM; audited',
    access: ['crm'],
    body: CustomerCreate,
    responses: { 201: CustomerDetail, ...problems(...WRITE, 409) },
  },
  'customers.update': {
    method: 'PATCH',
    path: '/v1/customers/:orgId',
    summary:
      'Edit contact and contract fields of a customer you own; needs If-Match and a reason; audited. A change to a field an approval rule names answers 202 with the change request holding the whole edit, the customer unchanged',
    access: ['crm'],
    params: OrgParams,
    body: CustomerPatch,
    ifMatch: true,
    responses: { 200: CustomerDetail, 202: ChangeRequestAccepted, ...problems(...WRITE, 404, 409, 412, 428) },
  },
  'customers.archive': {
    method: 'POST',
    path: '/v1/customers/:orgId/archive',
    summary:
      'Archive a customer (hidden from search by default): a CRM their own, a support lead any; needs If-Match and a reason; audited. While an approval rule names archiving it answers 202 with a change request',
    access: ['crm', 'support_lead'],
    params: OrgParams,
    body: ArchiveRequest,
    ifMatch: true,
    responses: { 200: CustomerDetail, 202: ChangeRequestAccepted, ...problems(...WRITE, 404, 409, 412, 428) },
  },
  'customers.unarchive': {
    method: 'POST',
    path: '/v1/customers/:orgId/unarchive',
    summary:
      'Bring an archived customer back: a CRM their own, a support lead any; needs If-Match and a reason; audited. While an approval rule names un-archiving it answers 202 with a change request',
    access: ['crm', 'support_lead'],
    params: OrgParams,
    body: ArchiveRequest,
    ifMatch: true,
    responses: { 200: CustomerDetail, 202: ChangeRequestAccepted, ...problems(...WRITE, 404, 409, 412, 428) },
  },
  'customers.usage': {
    method: 'GET',
    path: '/v1/customers/:orgId/usage',
    summary: `Daily usage between from and to (default: the last ${USAGE_DEFAULT_DAYS} days); records an access event`,
    access: READERS,
    params: OrgParams,
    query: UsageQuery,
    responses: { 200: z.array(UsageDay), ...problems(...AUTHENTICATED, 404) },
  },
  'customers.predictions': {
    method: 'GET',
    path: '/v1/customers/:orgId/predictions',
    summary: 'Prediction history of a customer, newest first; records an access event',
    access: READERS,
    params: OrgParams,
    responses: { 200: z.array(Prediction), ...problems(...AUTHENTICATED, 404) },
  },
  'customers.predictionFeedback': {
    method: 'POST',
    path: '/v1/customers/:orgId/predictions/feedback',
    summary: "A CRM's 'looks wrong' on one of the customer's predictions, with a reason; kept with the model version for data scientists; audited",
    access: ['crm'],
    params: OrgParams,
    body: PredictionFeedback,
    responses: { 201: PredictionFeedbackReceipt, ...problems(...WRITE, 404) },
  },
  'customers.audit': {
    method: 'GET',
    path: '/v1/customers/:orgId/audit',
    summary: 'Audit trail of one customer, newest first; records an access event',
    access: ['crm', 'support_lead'],
    params: OrgParams,
    query: CustomerAuditQuery,
    responses: { 200: AuditPage, ...problems(...AUTHENTICATED, 404) },
  },
  'customers.access': {
    method: 'GET',
    path: '/v1/customers/:orgId/access',
    summary: 'Who viewed this record (its access events and the search pages that listed it), newest first',
    access: REVIEWERS,
    params: OrgParams,
    query: CustomerAuditQuery,
    responses: { 200: AccessPage, ...problems(...AUTHENTICATED, 404) },
  },
  'portfolio.summary': {
    method: 'GET',
    path: '/v1/portfolio/summary',
    summary: 'Counts over the active customers assigned to the calling CRM: all, at high churn risk, renewing within 30 days; no access event (no personal data)',
    // A portfolio is the customers assigned to a CRM; a support lead or admin has none of their own.
    access: ['crm'],
    responses: { 200: PortfolioSummary, ...problems(...AUTHENTICATED) },
  },
  'audit.events': {
    method: 'GET',
    path: '/v1/audit/events',
    summary: 'Search audit events, newest first',
    access: REVIEWERS,
    query: AuditQuery,
    responses: { 200: AuditPage, ...problems(...AUTHENTICATED) },
  },
  'audit.exportCsv': {
    method: 'GET',
    path: '/v1/audit/events.csv',
    summary: 'Export matching audit events as CSV (one row per changed field), streamed; records one access event with the filter and counts',
    access: REVIEWERS,
    query: AuditCsvQuery,
    produces: 'text/csv',
    responses: { 200: z.string(), ...problems(...AUTHENTICATED) },
  },
  'audit.access': {
    method: 'GET',
    path: '/v1/audit/access',
    summary: 'Search the access log (who was shown which customer), newest first',
    access: REVIEWERS,
    query: AccessQuery,
    responses: { 200: AccessPage, ...problems(...AUTHENTICATED) },
  },
  'audit.accessCsv': {
    method: 'GET',
    path: '/v1/audit/access.csv',
    summary: 'Export matching access events as CSV, streamed',
    access: REVIEWERS,
    query: AccessCsvQuery,
    produces: 'text/csv',
    responses: { 200: z.string(), ...problems(...AUTHENTICATED) },
  },
  'audit.verify': {
    method: 'GET',
    path: '/v1/audit/verify',
    summary:
      'Seal and sign a checkpoint, then recompute the whole trail from its rows in the API (links, signed checkpoints, the copy kept outside the database, access events); ok, or the first problem',
    access: REVIEWERS,
    query: AuditVerifyQuery,
    responses: { 200: AuditVerifyResult, ...problems(...AUTHENTICATED) },
  },
  'audit.checkpoint': {
    method: 'GET',
    path: '/v1/audit/checkpoints/:seq',
    summary: 'One signed checkpoint as the database holds it now (compare it with a copy kept elsewhere)',
    access: REVIEWERS,
    params: CheckpointParams,
    responses: { 200: SignedCheckpoint, ...problems(...AUTHENTICATED, 404) },
  },
  'audit.evidence': {
    method: 'GET',
    path: '/v1/audit/evidence',
    summary:
      'Seal and sign a checkpoint, then stream the evidence bundle for events in from..to (NDJSON, shared/evidence.ts: keys, signed checkpoints, links with their events, access events) that `cims-verify` checks offline; records one access event with the range and counts',
    access: REVIEWERS,
    query: EvidenceQuery,
    produces: EVIDENCE_CONTENT_TYPE,
    responses: { 200: z.string(), ...problems(...AUTHENTICATED) },
  },
  'self.organization': {
    method: 'GET',
    path: '/v1/self/organization',
    summary: "The calling customer's own organization: contact fields and masked billing only; records an access event",
    access: ['customer'],
    responses: { 200: SelfOrganization, ...problems(...AUTHENTICATED, 404) },
  },
  'self.updateOrganization': {
    method: 'PATCH',
    path: '/v1/self/organization',
    summary: "Change the calling customer's contact name, email or phone; needs If-Match; audited with the contact as actor, via the portal",
    access: ['customer'],
    body: SelfOrganizationPatch,
    ifMatch: true,
    responses: { 200: SelfOrganization, ...problems(...WRITE, 404, 412, 428) },
  },
  'self.replaceBillingMethod': {
    method: 'PUT',
    path: '/v1/self/billing-method',
    summary:
      "Replace the calling customer's card on file with a payment processor token (brand, last four, expiry); a body holding a card number is refused; audited",
    access: ['customer'],
    body: BillingMethodReplace,
    responses: { 200: SelfOrganization, ...problems(...WRITE, 404, 409) },
  },
  'staff.list': {
    method: 'GET',
    path: '/v1/staff',
    summary: 'The staff directory: everyone the API has seen (roles, first and last seen) and everyone who owns customers, with their active and archived customer counts',
    access: ['admin'],
    responses: { 200: StaffList, ...problems(...AUTHENTICATED) },
  },
  'assignments.create': {
    method: 'POST',
    path: '/v1/assignments',
    summary:
      'Move the listed customers, or every customer of fromOwner, to toOwner (a CRM from the staff directory) in one transaction; one audit event per customer moved, with the reason',
    access: ['admin'],
    body: AssignmentRequest,
    responses: { 200: AssignmentResult, ...problems(...WRITE, 404) },
  },
  'events.stream': {
    method: 'GET',
    path: '/v1/events',
    summary:
      'Change stream (Server-Sent Events, shared/live.ts): customer changes, change-request steps and assignments the caller may read (a CRM: their own customers), with ids, versions and field names only; Last-Event-ID resumes, heartbeats keep it open, it ends when the token expires',
    access: READERS,
    produces: EVENTS_CONTENT_TYPE,
    responses: { 200: z.string(), ...problems(...AUTHENTICATED) },
  },
  'approvalRules.get': {
    method: 'GET',
    path: '/v1/approval-rules',
    summary: 'Which fields and actions need a second person, and after how many days a request expires',
    access: READERS,
    responses: { 200: ApprovalRules, ...problems(...AUTHENTICATED) },
  },
  'changeRequests.list': {
    method: 'GET',
    path: '/v1/change-requests',
    summary: 'Change requests, newest first (support leads: all; a CRM: those they made or on their customers); records one access event per page',
    access: ['crm', 'support_lead'],
    query: ChangeRequestQuery,
    responses: { 200: ChangeRequestPage, ...problems(...AUTHENTICATED) },
  },
  'changeRequests.get': {
    method: 'GET',
    path: '/v1/change-requests/:id',
    summary: 'One change request; records an access event',
    access: ['crm', 'support_lead'],
    params: ChangeRequestParams,
    responses: { 200: ChangeRequest, ...problems(...AUTHENTICATED, 404) },
  },
  'changeRequests.approve': {
    method: 'POST',
    path: '/v1/change-requests/:id/approve',
    summary:
      "Approve (a support lead who is not the maker; If-Match on the request's version): applies the whole change if the customer is still at the request's base version, else the request becomes stale and nothing is applied; audited",
    access: REVIEWERS,
    params: ChangeRequestParams,
    body: ChangeDecision,
    ifMatch: true,
    responses: { 200: ChangeRequest, ...problems(...WRITE, 404, 409, 412, 428) },
  },
  'changeRequests.reject': {
    method: 'POST',
    path: '/v1/change-requests/:id/reject',
    summary: "Reject (a support lead who is not the maker; If-Match on the request's version), with a reason; audited",
    access: REVIEWERS,
    params: ChangeRequestParams,
    body: ChangeDecision,
    ifMatch: true,
    responses: { 200: ChangeRequest, ...problems(...WRITE, 404, 409, 412, 428) },
  },
  'changeRequests.withdraw': {
    method: 'POST',
    path: '/v1/change-requests/:id/withdraw',
    summary: 'The maker takes a pending request back, with a reason; audited',
    access: ['crm', 'support_lead'],
    params: ChangeRequestParams,
    body: ChangeDecision,
    responses: { 200: ChangeRequest, ...problems(...WRITE, 404, 409) },
  },
  'predictions.ingest': {
    method: 'PUT',
    path: '/v1/predictions',
    summary: 'Ingest a batch of predictions (idempotent per customer, model, version, kind and scoredAt)',
    access: 'service',
    body: PredictionBatch,
    responses: { 200: PredictionBatchResult, ...problems(...WRITE, 404) },
  },
} as const satisfies Record<string, Endpoint>;

export type Endpoints = typeof endpoints;
export type EndpointName = keyof Endpoints;
export const ENDPOINT_NAMES = Object.keys(endpoints) as EndpointName[];

type SuccessCode = 200 | 201 | 202 | 204;
/** The schema of an endpoint's one 2xx response. */
export type SuccessSchema<E extends Endpoint> = E['responses'][Extract<keyof E['responses'], SuccessCode>];

/** The 2xx status an endpoint usually answers with (the first it declares). */
export function successStatus(endpoint: Endpoint): number {
  const status = Object.keys(endpoint.responses).map(Number).find((s) => s >= 200 && s < 300);
  if (status === undefined) throw new Error(`${endpoint.method} ${endpoint.path} declares no 2xx response`);
  return status;
}

/** Whether the endpoint declares this status as a success (its usual 2xx, or a 202 beside it). */
export function isSuccessStatus(endpoint: Endpoint, status: number): boolean {
  return status >= 200 && status < 300 && status in endpoint.responses;
}

/**
 * What a caller sends: params, query, body and If-Match exactly as the endpoint declares them.
 * A query may also be one already parsed (its values are sent as text and parsed again).
 */
export type CallInput<E extends Endpoint> = (E extends { params: infer P extends z.ZodType } ? { params: z.input<P> } : { params?: never }) &
  (E extends { query: infer Q extends z.ZodType } ? { query?: z.input<Q> | Partial<z.output<Q>> } : { query?: never }) &
  (E extends { body: infer B extends z.ZodType } ? { body: z.input<B> } : { body?: never }) &
  (E extends { ifMatch: true } ? { ifMatch: number } : { ifMatch?: never });

/** The path with its parameters filled in, each segment encoded. */
export function pathFor(endpoint: Endpoint, params: Readonly<Record<string, string>> = {}): string {
  return endpoint.path.replace(/:([A-Za-z0-9_]+)/g, (_m, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`${endpoint.path}: missing path parameter ${name}`);
    return encodeURIComponent(value);
  });
}
