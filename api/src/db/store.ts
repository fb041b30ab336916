// The API's only way to the data: typed calls to the database's `api.*`
// functions (nothing else is granted to the API's role). Routes depend on this
// interface; src/db/pg-store.ts implements it over PostgreSQL or PGlite.
import type {
  AccessPage,
  AccessQuery,
  AssignmentRequest,
  AssignmentResult,
  StaffList,
  AuditPage,
  ApprovalRules,
  ChangeRequest,
  ChangeRequestAccepted,
  ChangeRequestPage,
  ChangeRequestQuery,
  CustomerCreate,
  CustomerDetail,
  CustomerFields,
  CustomerListPage,
  CustomerListQuery,
  AuditQuery,
  PortfolioSummary,
  Prediction,
  PredictionBatch,
  PredictionBatchResult,
  PredictionFeedback,
  PredictionFeedbackReceipt,
  BillingMethodReplace,
  SelfContactFields,
  SelfOrganization,
  UsageDay,
} from '../../../shared/api';
import type { z } from 'zod';
import type { AuditRows } from '../audit/audit-store';

/** Who acts, as the API verified it from the access token. Passed to every database function. */
export interface Actor {
  sub: string;
  name: string;
  roles: string[];
  scopes: string[];
  /** A customer contact's one organization (role `customer`, from the portal's client only). */
  org?: string;
}

/** A person as a request showed them, for the staff directory. */
export type StaffSighting = Pick<Actor, 'sub' | 'name' | 'roles'>;

/** Where the request came from, recorded with every audit and access event. */
export interface RequestContext {
  /** The API's own id for the request (a UUID), whatever the caller sent. */
  requestId: string;
  /** The caller's own x-request-id when it is well formed (plugins/security-headers.ts), recorded beside requestId. */
  clientRequestId?: string | null;
  clientAddress: string | null;
  appVersion: string | null;
}

/** Errors the database functions raise on purpose, mapped from their SQLSTATE. */
/**
 * `busy`: the database gave up on this request to break a lock cycle or a serialization conflict; retrying may succeed.
 * `unavailable`: the database could not be reached, or the connection broke mid-call (it restarted).
 */
export type StoreErrorKind = 'forbidden' | 'not_found' | 'conflict' | 'validation' | 'duplicate' | 'busy' | 'unavailable';
export class StoreError extends Error {
  constructor(
    readonly kind: StoreErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

export type ParsedCustomerListQuery = z.output<typeof CustomerListQuery>;
export type ParsedAuditQuery = z.output<typeof AuditQuery>;
export type ParsedAccessQuery = z.output<typeof AccessQuery>;
export type ParsedChangeRequestQuery = z.output<typeof ChangeRequestQuery>;
/** What an edit, archive or un-archive did: the new record, or the change request it waits in. */
export type EditOutcome = CustomerDetail | ChangeRequestAccepted;
export type AuditFilters = Omit<ParsedAuditQuery, 'cursor' | 'limit'>;

/** What an audit export will contain (fixed when it starts), and the cursor its pages start from. */
export interface AuditExport {
  events: number;
  rows: number;
  /** null when nothing matches. */
  cursor: string | null;
}

export interface Store {
  ping(): Promise<void>;
  // Every read below that returns a customer's personal or contract data records its access
  // event(s) durably before it resolves; a refused read records none.
  /** One access event per non-empty page: the query and the org ids shown. */
  searchCustomers(actor: Actor, ctx: RequestContext, query: ParsedCustomerListQuery): Promise<CustomerListPage>;
  /** Also records an access event (who viewed which record, when, from where). */
  getCustomer(actor: Actor, ctx: RequestContext, orgId: string): Promise<CustomerDetail>;
  createCustomer(actor: Actor, ctx: RequestContext, input: CustomerCreate): Promise<CustomerDetail>;
  /** Throws StoreError('conflict') when `expectedVersion` is stale. A patch that changes nothing records nothing. */
  updateCustomer(
    actor: Actor,
    ctx: RequestContext,
    orgId: string,
    expectedVersion: number,
    changes: Partial<CustomerFields>,
    reason: string,
    /** The history event this edit reverts; recorded on the edit's own event. */
    revertOf?: string,
  ): Promise<EditOutcome>;
  /** A CRM their own customer, a support lead any; a change request while an approval rule names the action. */
  archiveCustomer(actor: Actor, ctx: RequestContext, orgId: string, expectedVersion: number | null, reason: string): Promise<EditOutcome>;
  unarchiveCustomer(actor: Actor, ctx: RequestContext, orgId: string, expectedVersion: number | null, reason: string): Promise<EditOutcome>;
  // Four eyes (api/sql/functions/change_requests.sql).
  approvalRules(actor: Actor): Promise<ApprovalRules>;
  /** One change.list access event per non-empty page. */
  changeRequests(actor: Actor, ctx: RequestContext, query: ParsedChangeRequestQuery): Promise<ChangeRequestPage>;
  /** Records a change.read access event. */
  changeRequest(actor: Actor, ctx: RequestContext, id: string): Promise<ChangeRequest>;
  /** Applies the change, or marks the request stale when the customer moved on; either way the request is returned. */
  approveChangeRequest(actor: Actor, ctx: RequestContext, id: string, expectedVersion: number, reason: string): Promise<ChangeRequest>;
  rejectChangeRequest(actor: Actor, ctx: RequestContext, id: string, expectedVersion: number, reason: string): Promise<ChangeRequest>;
  withdrawChangeRequest(actor: Actor, ctx: RequestContext, id: string, reason: string): Promise<ChangeRequest>;
  /** Counts over the actor's own active customers (a CRM's); no access event, as counts name no one. */
  portfolioSummary(actor: Actor): Promise<PortfolioSummary>;
  usage(actor: Actor, ctx: RequestContext, orgId: string, from: string, to: string): Promise<UsageDay[]>;
  predictions(actor: Actor, ctx: RequestContext, orgId: string): Promise<Prediction[]>;
  /** A CRM's "looks wrong" on one prediction; audited. StoreError('not_found') when there is no such prediction. */
  predictionFeedback(actor: Actor, ctx: RequestContext, orgId: string, feedback: PredictionFeedback): Promise<PredictionFeedbackReceipt>;
  customerAudit(actor: Actor, ctx: RequestContext, orgId: string, cursor: string | undefined, limit: number): Promise<AuditPage>;
  /** One access event per non-empty page: the filter and the customers it shows. */
  auditEvents(actor: Actor, ctx: RequestContext, query: ParsedAuditQuery): Promise<AuditPage>;
  /** Starts an audit CSV export: records its one access event (filter, counts); pages follow through auditExportPage. */
  auditExport(actor: Actor, ctx: RequestContext, filters: AuditFilters): Promise<AuditExport>;
  /** A page of a started export (the cursor of auditExport or of the page before), no event of its own. */
  auditExportPage(actor: Actor, cursor: string, limit: number): Promise<AuditPage>;
  /** Who viewed a record (support leads). Reading the access log records no access event. */
  customerAccess(actor: Actor, orgId: string, cursor: string | undefined, limit: number): Promise<AccessPage>;
  accessEvents(actor: Actor, query: ParsedAccessQuery): Promise<AccessPage>;
  /** The audit trail's rows (sealing, checkpoints, verification); see src/audit/trail.ts. */
  readonly audit: AuditRows;
  ingestPredictions(actor: Actor, ctx: RequestContext, batch: PredictionBatch): Promise<PredictionBatchResult>;
  // Self-service: the actor is a customer contact, for the organization their token names (actor.org).
  /** Their contact fields and masked billing; records an access event. */
  selfOrganization(actor: Actor, ctx: RequestContext): Promise<SelfOrganization>;
  /** Throws StoreError('conflict') when `expectedVersion` is stale; audited with via 'portal'. */
  updateSelfOrganization(actor: Actor, ctx: RequestContext, expectedVersion: number, changes: Partial<SelfContactFields>): Promise<SelfOrganization>;
  /** The card on file becomes this processor token; audited with via 'portal'. */
  replaceBillingMethod(actor: Actor, ctx: RequestContext, method: BillingMethodReplace): Promise<SelfOrganization>;
  /** Records that these people made requests (the staff directory); returns how many were recorded. */
  staffSeen(people: readonly StaffSighting[]): Promise<number>;
  /** The staff directory with each person's customer counts (admins). */
  staffList(actor: Actor): Promise<StaffList>;
  /** Moves customers to another CRM in one transaction, one audit event per customer moved (admins). */
  applyAssignment(actor: Actor, ctx: RequestContext, request: AssignmentRequest): Promise<AssignmentResult>;
  close(): Promise<void>;
}
