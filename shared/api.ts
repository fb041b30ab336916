// API resources: the contract between the console, the API and the database
// functions. Every side validates with these schemas; unknown fields are
// rejected (z.strictObject) so a client can never mass-assign a field.
import { z } from 'zod';

/**
 * Text PostgreSQL can store. text and jsonb refuse U+0000, and a lone UTF-16 surrogate has no
 * UTF-8 form (jsonb refuses its escape; a text parameter would become U+FFFD without a word).
 */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
export const isStorableText = (s: string): boolean => !s.includes('\u0000') && !LONE_SURROGATE.test(s);
export const UNSTORABLE_TEXT_MESSAGE = 'Remove the hidden or broken characters from this text';
/** Every piece of user text is built on this, so every schema refuses what the database cannot store. */
export const Text = z.string().refine(isStorableText, UNSTORABLE_TEXT_MESSAGE);
/** An opaque paging cursor, as the API hands it out. */
export const Cursor = Text.max(500);

/** `customer`: a customer's contact, accepted only from the portal's client (api/src/auth.ts). */
export const Role = z.enum(['crm', 'support_lead', 'admin', 'customer']);
export type Role = z.infer<typeof Role>;

/** Organization id, the customer's key: "ORG-000123"; 6 to 12 digits, so not capped below a billion customers. */
export const OrgId = z.string().regex(/^ORG-[0-9]{6,12}$/, 'Organization id looks like ORG-000123');
export type OrgId = z.infer<typeof OrgId>;

export const IsoDate = z.iso.date();
export const IsoDateTime = z.iso.datetime({ offset: true });

export const Currency = z.string().regex(/^[A-Z]{3}$/, 'Currency is a three-letter ISO 4217 code, e.g. EUR');

/** The fields a CRM may set on a customer. Money is in minor units (cents) to stay exact. */
export const CustomerFields = z.strictObject({
  orgName: Text.trim().min(1, 'Organization name is required').max(200),
  contactName: Text.trim().min(1, 'Contact name is required').max(200),
  contactEmail: z.email('Enter a valid email address').max(254),
  contactPhone: Text.trim()
    .regex(/^\+?[0-9][0-9 ()-]{5,24}$/, 'Enter a phone number with digits, spaces, dashes or parentheses'),
  userCount: z.int('Number of users is a whole number').min(0).max(10_000_000),
  contractValueCents: z.int('Contract value is a whole number of cents').min(0).max(1_000_000_000_000),
  currency: Currency,
  renewalDate: IsoDate,
});
export type CustomerFields = z.infer<typeof CustomerFields>;
export const EDITABLE_FIELDS = CustomerFields.keyof().options;
export type EditableField = (typeof EDITABLE_FIELDS)[number];

export const CustomerStatus = z.enum(['active', 'archived']);

export const Customer = CustomerFields.extend({
  orgId: OrgId,
  ownerSub: z.string(),
  ownerName: z.string(),
  status: CustomerStatus,
  /** Optimistic-concurrency version; the API sends it as the ETag `"<version>"`. */
  version: z.int().min(1),
  createdAt: IsoDateTime,
  updatedAt: IsoDateTime,
});
export type Customer = z.infer<typeof Customer>;

export const Reason = Text.trim().min(3, 'Say why you make this change (at least 3 characters)').max(500);

export const CustomerCreate = z.strictObject({
  customer: CustomerFields.extend({ orgId: OrgId }),
  reason: Reason,
});
export type CustomerCreate = z.infer<typeof CustomerCreate>;

/** An audit event's id, as a decimal string (bigint). */
export const EventId = z.string().regex(/^[1-9][0-9]{0,18}$/, 'An event id is a positive whole number');

export const CustomerPatch = z.strictObject({
  changes: CustomerFields.partial().refine((c) => Object.keys(c).length > 0, 'Change at least one field'),
  reason: Reason,
  /** The history event this edit reverts ("Revert this change"); its own event records it. */
  revertOf: EventId.optional(),
});
export type CustomerPatch = z.infer<typeof CustomerPatch>;

export const ArchiveRequest = z.strictObject({ reason: Reason });
export type ArchiveRequest = z.infer<typeof ArchiveRequest>;

/** Billing as the API shows it: never more than brand, last four and expiry. */
export const BillingMethodMasked = z.strictObject({
  brand: z.string(),
  last4: z.string().regex(/^[0-9]{4}$/),
  expMonth: z.int().min(1).max(12),
  expYear: z.int().min(2000).max(2100),
});
export type BillingMethodMasked = z.infer<typeof BillingMethodMasked>;

export const CardBrand = z.enum(['visa', 'mastercard', 'amex', 'discover', 'other']);
export type CardBrand = z.infer<typeof CardBrand>;

/** What the portal may change about its own organization: the contact, nothing else. */
export const SelfContactFields = CustomerFields.pick({ contactName: true, contactEmail: true, contactPhone: true });
export type SelfContactFields = z.infer<typeof SelfContactFields>;

/** A customer's own organization as the portal shows it: the contact and masked billing only. */
export const SelfOrganization = z.strictObject({
  orgId: OrgId,
  contactName: z.string(),
  contactEmail: z.string(),
  contactPhone: z.string(),
  billing: z.array(BillingMethodMasked),
  /** Optimistic-concurrency version, sent as the ETag. */
  version: z.int().min(1),
});
export type SelfOrganization = z.infer<typeof SelfOrganization>;

export const SelfOrganizationPatch = z.strictObject({
  changes: SelfContactFields.partial().refine((c) => Object.keys(c).length > 0, 'Change at least one field'),
});
export type SelfOrganizationPatch = z.infer<typeof SelfOrganizationPatch>;

/**
 * A card on file, as the payment processor returns it after tokenizing in the customer's browser:
 * never the number itself. The token is opaque (letters, digits, underscore).
 */
export const BillingMethodReplace = z.strictObject({
  processorToken: z.string().regex(/^[A-Za-z0-9_]{8,100}$/, 'A processor token is 8 to 100 letters, digits or underscores'),
  brand: CardBrand,
  last4: z.string().regex(/^[0-9]{4}$/, 'The last four digits of the card'),
  expMonth: z.int().min(1).max(12),
  expYear: z.int().min(2000).max(2100),
});
export type BillingMethodReplace = z.infer<typeof BillingMethodReplace>;

export const PredictionKind = z.enum(['churn_risk', 'upsell_propensity']);
export type PredictionKind = z.infer<typeof PredictionKind>;

export const PredictionFactor = z.strictObject({
  factor: Text.min(1).max(100),
  /** The factor's contribution to the score, in the model's own terms (a logistic model's log-odds). */
  weight: z.number().min(-20).max(20),
  /** The feature's value for this customer, when the model says (e.g. a trend of -0.32 is 32% down). */
  value: z.number().min(-1e9).max(1e9).optional(),
});

export const Prediction = z.strictObject({
  orgId: OrgId,
  kind: PredictionKind,
  modelName: Text.min(1).max(100),
  modelVersion: Text.min(1).max(50),
  score: z.number().min(0).max(1),
  topFactors: z.array(PredictionFactor).max(10),
  scoredAt: IsoDateTime,
});
export type Prediction = z.infer<typeof Prediction>;

export const PredictionBatch = z.strictObject({
  predictions: z.array(Prediction).min(1).max(1000),
});
export type PredictionBatch = z.infer<typeof PredictionBatch>;

/** A CRM's "looks wrong" on one prediction, named as the console shows it; the reason goes to data scientists. */
export const PredictionFeedback = z.strictObject({
  kind: PredictionKind,
  modelName: Text.min(1).max(100),
  modelVersion: Text.min(1).max(50),
  scoredAt: IsoDateTime,
  verdict: z.literal('looks_wrong'),
  reason: Text.trim().min(3, 'Say what looks wrong (at least 3 characters)').max(500),
});
export type PredictionFeedback = z.infer<typeof PredictionFeedback>;

export const PredictionFeedbackReceipt = z.strictObject({
  id: z.string().regex(/^[0-9]+$/),
  orgId: OrgId,
  kind: PredictionKind,
  modelName: z.string(),
  modelVersion: z.string(),
  verdict: z.literal('looks_wrong'),
  reason: z.string(),
  createdAt: IsoDateTime,
});
export type PredictionFeedbackReceipt = z.infer<typeof PredictionFeedbackReceipt>;

export const PredictionBatchResult = z.strictObject({
  accepted: z.int().min(0),
  duplicates: z.int().min(0),
});
export type PredictionBatchResult = z.infer<typeof PredictionBatchResult>;

export const UsageDay = z.strictObject({
  day: IsoDate,
  activeUsers: z.int().min(0),
  sessions: z.int().min(0),
  featureEvents: z.int().min(0),
});
export type UsageDay = z.infer<typeof UsageDay>;

export const UsageSummary = z.strictObject({
  days: z.int().min(0),
  activeUsersLatest: z.int().min(0).nullable(),
  activeUsersAvg30: z.number().min(0).nullable(),
  /** Change of the 30-day average against the 30 days before it, -1..∞ (null when unknown). */
  trend30: z.number().nullable(),
});
export type UsageSummary = z.infer<typeof UsageSummary>;

export const CustomerDetail = z.strictObject({
  customer: Customer,
  billing: z.array(BillingMethodMasked),
  usage: UsageSummary,
  predictions: z.array(Prediction),
});
export type CustomerDetail = z.infer<typeof CustomerDetail>;

export const CustomerSort = z.enum(['name', 'renewal', 'churnRisk']);

export const CustomerListQuery = z.strictObject({
  q: Text.trim().max(200).optional(),
  owner: z.enum(['me']).optional(),
  renewalWithinDays: z.coerce.number().int().min(0).max(3650).optional(),
  minChurnRisk: z.coerce.number().min(0).max(1).optional(),
  includeArchived: z.stringbool().optional(),
  sort: CustomerSort.default('name'),
  cursor: Cursor.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export type CustomerListQuery = z.input<typeof CustomerListQuery>;

export const CustomerListItem = z.strictObject({
  orgId: OrgId,
  orgName: z.string(),
  contactName: z.string(),
  contactEmail: z.string(),
  contactPhone: z.string(),
  renewalDate: IsoDate,
  contractValueCents: z.int(),
  currency: Currency,
  ownerSub: z.string(),
  ownerName: z.string(),
  status: CustomerStatus,
  churnRisk: z.number().min(0).max(1).nullable(),
});
export type CustomerListItem = z.infer<typeof CustomerListItem>;

/**
 * A search (with `q`) that matches more customers than this is too broad: the database would
 * materialize and sort them all. It is answered with no items and `tooBroad: true` instead.
 * The same number is the cap in api.customer_search (api/sql/functions/customers.sql).
 */
export const SEARCH_MAX_MATCHES = 5_000;

export const CustomerListPage = z.strictObject({
  items: z.array(CustomerListItem),
  nextCursor: z.string().nullable(),
  /** Present (true) when the search matched more than SEARCH_MAX_MATCHES customers: add characters or filters. */
  tooBroad: z.literal(true).optional(),
});
export type CustomerListPage = z.infer<typeof CustomerListPage>;

/** A churn risk at or above this is high: the badge, the portfolio's count and the API's count use this one value. */
export const HIGH_CHURN_RISK = 0.7;
/** A renewal is soon from today through this many days ahead. */
export const RENEWAL_SOON_DAYS = 30;

/** A CRM's whole portfolio (their active customers) in numbers; nothing in it names a customer. */
export const PortfolioSummary = z.strictObject({
  customers: z.int().min(0),
  /** Customers whose latest churn risk is at least HIGH_CHURN_RISK. */
  highChurnRisk: z.int().min(0),
  /** Customers renewing from `asOf` through RENEWAL_SOON_DAYS days after it. */
  renewingWithin30Days: z.int().min(0),
  /** The database's current date, which the renewal window counts from. */
  asOf: IsoDate,
});
export type PortfolioSummary = z.infer<typeof PortfolioSummary>;

export const UsageQuery = z.strictObject({ from: IsoDate.optional(), to: IsoDate.optional() });

export const AuditAction = z.enum([
  'customer.create',
  'customer.update',
  'customer.archive',
  'customer.unarchive',
  'predictions.ingest',
  // A CRM said a prediction looks wrong (the reason is the event's reason).
  'prediction.feedback',
  // A change request's steps (its approval is the applied change's own event, with detail).
  'change.requested',
  'change.rejected',
  'change.withdrawn',
  'change.expired',
  'change.stale',
]);
export type AuditAction = z.infer<typeof AuditAction>;

const AuditValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);
export const FieldChange = z.strictObject({ field: z.string(), before: AuditValue, after: AuditValue });
export type FieldChange = z.infer<typeof FieldChange>;

/** Someone the trail names beside the event's actor. */
export const PersonRef = z.strictObject({ sub: z.string(), name: z.string() });
export type PersonRef = z.infer<typeof PersonRef>;

/** What a change request's events say beyond their changes: the request, its maker and, once decided, its checker. */
export const ChangeEventDetail = z.strictObject({
  changeRequestId: z.string().regex(/^[0-9]+$/),
  kind: z.enum(['edit', 'archive', 'unarchive']),
  baseVersion: z.int().min(1),
  maker: PersonRef,
  checker: PersonRef.optional(),
  checkerReason: z.string().optional(),
  /** A stale request: the version the customer had moved on to. */
  currentVersion: z.int().min(1).optional(),
});
export type ChangeEventDetail = z.infer<typeof ChangeEventDetail>;

export const AuditEvent = z.strictObject({
  /** Position in the chain, as a decimal string (bigint). */
  id: z.string().regex(/^[0-9]+$/),
  occurredAt: IsoDateTime,
  actorSub: z.string(),
  actorName: z.string(),
  actorRoles: z.array(z.string()),
  action: AuditAction,
  entityType: z.string(),
  entityId: z.string(),
  changes: z.array(FieldChange),
  reason: z.string().nullable(),
  /**
   * Where the change came from. Omitted from a record's history (GET /v1/customers/:orgId/audit)
   * for anyone but a support lead: a CRM does not see colleagues' addresses and request ids.
   */
  requestId: z.string().optional(),
  clientAddress: z.string().nullable().optional(),
  appVersion: z.string().nullable(),
  prevHash: z.string().nullable(),
  hash: z.string().nullable(),
  /** Present on an edit that reverts another: that event's id. */
  revertOf: EventId.optional(),
  /** Present on a change request's steps and on the change an approval applied. */
  detail: ChangeEventDetail.optional(),
  /** Present when the change did not come from the console: `portal`, the customer's own contact through the portal. */
  via: z.enum(['portal']).optional(),
});
export type AuditEvent = z.infer<typeof AuditEvent>;

export const AuditQuery = z.strictObject({
  actor: Text.max(200).optional(),
  orgId: OrgId.optional(),
  action: AuditAction.optional(),
  field: Text.max(100).optional(),
  from: IsoDateTime.optional(),
  to: IsoDateTime.optional(),
  cursor: Cursor.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export type AuditQuery = z.input<typeof AuditQuery>;

export const AuditPage = z.strictObject({
  items: z.array(AuditEvent),
  nextCursor: z.string().nullable(),
});
export type AuditPage = z.infer<typeof AuditPage>;

/** What an access event says was shown (see api/sql/migrations/004_access_log.sql). */
export const AccessKind = z.enum([
  'customer.read',
  'customer.search',
  'customer.history',
  'customer.usage',
  'customer.predictions',
  'audit.review',
  'audit.export',
  'audit.evidence',
  'change.read',
  'change.list',
]);
export type AccessKind = z.infer<typeof AccessKind>;

/** One entry of the access log: who was shown which customer's data, when, how and from where. */
export const AccessEvent = z.strictObject({
  id: z.string().regex(/^[0-9]+$/),
  occurredAt: IsoDateTime,
  actorSub: z.string(),
  actorName: z.string(),
  actorRoles: z.array(z.string()),
  kind: AccessKind,
  /** The customer it concerns; null for a read that showed several (a search page: detail.orgIds). */
  orgId: z.string().nullable(),
  /** The query and org ids of a search page, the range of usage, the filter and counts of an export. */
  detail: z.record(z.string(), z.unknown()),
  requestId: z.string(),
  clientAddress: z.string().nullable(),
  appVersion: z.string().nullable(),
});
export type AccessEvent = z.infer<typeof AccessEvent>;

export const AccessPage = z.strictObject({
  items: z.array(AccessEvent),
  nextCursor: z.string().nullable(),
});
export type AccessPage = z.infer<typeof AccessPage>;

/** The access review's filters: user (a subject), customer, time range. */
export const AccessQuery = z.strictObject({
  user: Text.min(1).max(200).optional(),
  orgId: OrgId.optional(),
  from: IsoDateTime.optional(),
  to: IsoDateTime.optional(),
  cursor: Cursor.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export type AccessQuery = z.input<typeof AccessQuery>;

/**
 * from/to are accepted for older consoles and ignored: verification always covers the whole
 * trail, because the signed checkpoints that prove nothing was cut off cover it whole.
 */
export const AuditVerifyQuery = z.strictObject({ from: IsoDateTime.optional(), to: IsoDateTime.optional() });

export const AuditProblem = z.enum([
  /** The trail ends before a signed checkpoint says it does (events, links or checkpoints were cut off). */
  'truncated',
  /** An event does not hash to its link (it was altered, or two links were swapped). */
  'hash_mismatch',
  /** A link does not follow the one before it (a gap, or prev_hash differs). */
  'chain_break',
  /** A link names an event that is gone. */
  'missing_event',
  /** The chain's head, or a checkpoint, differs from what a signed checkpoint or the external sink says. */
  'checkpoint_mismatch',
  /** A checkpoint's signature does not verify with a trusted key. */
  'bad_signature',
  /** The newest checkpoint is older than two intervals while the trail has grown since. */
  'stale_checkpoint',
  /** The access events a checkpoint covers are not all there, or not as they were. */
  'access_log_mismatch',
]);
export type AuditProblem = z.infer<typeof AuditProblem>;

/** The newest signed checkpoint a verification saw. */
export const CheckpointRef = z.strictObject({ seq: z.int().min(1), signedAt: IsoDateTime, keyId: z.string() });
export type CheckpointRef = z.infer<typeof CheckpointRef>;

const VerifyCounts = {
  /** Chain links (events) whose hashes were recomputed. */
  checked: z.int().min(0),
  /** Access events whose digests were recomputed. */
  accessChecked: z.int().min(0),
  /** Events written but not linked into the chain yet, or linked after the newest checkpoint. */
  unsealed: z.int().min(0),
  /** Access events not covered by a checkpoint yet. */
  accessUnsealed: z.int().min(0),
  checkpoint: CheckpointRef.nullable(),
};

export const AuditVerifyResult = z.discriminatedUnion('ok', [
  z.strictObject({ ok: z.literal(true), ...VerifyCounts }),
  z.strictObject({
    ok: z.literal(false),
    ...VerifyCounts,
    problem: AuditProblem,
    /** The first event the problem concerns, when it is known (a deleted event may not be). */
    firstBadEventId: z.string().optional(),
    /** The chain position concerned (decimal string). */
    chainSeq: z.string().regex(/^[0-9]+$/).optional(),
    /** The checkpoint concerned. */
    checkpointSeq: z.int().min(1).optional(),
    /** The first access event concerned. */
    accessEventId: z.string().optional(),
    /** One sentence for a person. */
    detail: z.string(),
  }),
]);
export type AuditVerifyResult = z.infer<typeof AuditVerifyResult>;

/** A person the API has seen with a valid token, and how many customers they own (admins: GET /v1/staff). */
export const StaffMember = z.strictObject({
  sub: z.string(),
  name: z.string(),
  /** As of their last request; empty for an owner of customers the API has not seen since the directory began. */
  roles: z.array(Role),
  firstSeenAt: IsoDateTime.nullable(),
  lastSeenAt: IsoDateTime.nullable(),
  /** Active customers assigned to them. */
  customers: z.int().min(0),
  archivedCustomers: z.int().min(0),
});
export type StaffMember = z.infer<typeof StaffMember>;

export const StaffList = z.strictObject({ items: z.array(StaffMember) });
export type StaffList = z.infer<typeof StaffList>;

/** A subject in the staff directory (the owner an assignment names). */
export const StaffSub = Text.trim().min(1).max(200);

/** The most customers one assignment moves; a larger portfolio is moved with fromOwner. */
export const ASSIGNMENT_MAX_ORG_IDS = 500;

/**
 * Reassign customers (admins): the listed ones, or every customer of `fromOwner` (a CRM who leaves),
 * to `toOwner`, a CRM from the staff directory. One transaction, one audit event per customer moved.
 */
export const AssignmentRequest = z.union([
  z.strictObject({
    orgIds: z.array(OrgId).min(1, 'Choose at least one customer').max(ASSIGNMENT_MAX_ORG_IDS)
      .refine((ids) => new Set(ids).size === ids.length, 'Each customer once'),
    toOwner: StaffSub,
    reason: Reason,
  }),
  z.strictObject({
    fromOwner: StaffSub,
    toOwner: StaffSub,
    reason: Reason,
  }).refine((r) => r.fromOwner !== r.toOwner, { message: 'Choose another relationship manager', path: ['toOwner'] }),
]);
export type AssignmentRequest = z.infer<typeof AssignmentRequest>;

export const AssignmentResult = z.strictObject({
  toOwner: z.strictObject({ sub: z.string(), name: z.string() }),
  /** The customers moved, with the owner they had and their new version. */
  moved: z.array(z.strictObject({ orgId: OrgId, fromOwnerSub: z.string(), version: z.int().min(1) })),
  /** Listed customers that were already assigned to toOwner (nothing recorded for them). */
  unchanged: z.array(OrgId),
});
export type AssignmentResult = z.infer<typeof AssignmentResult>;

// Four eyes: approval rules and change requests (api/sql/functions/change_requests.sql).

/** What needs a second person: fields of an edit and actions on a customer, and how long a request waits. */
export const ApprovalRules = z.strictObject({
  fields: z.array(CustomerFields.keyof()),
  actions: z.array(z.enum(['archive', 'unarchive'])),
  requestExpiryDays: z.int().min(1),
});
export type ApprovalRules = z.infer<typeof ApprovalRules>;

export const ChangeRequestStatus = z.enum(['pending', 'approved', 'rejected', 'withdrawn', 'expired', 'stale']);
export type ChangeRequestStatus = z.infer<typeof ChangeRequestStatus>;
export const ChangeRequestKind = z.enum(['edit', 'archive', 'unarchive']);
export type ChangeRequestKind = z.infer<typeof ChangeRequestKind>;
/** A change request's id, as a decimal string (bigint). */
export const ChangeRequestId = z.string().regex(/^[1-9][0-9]{0,18}$/, 'A change request id is a positive whole number');

export const ChangeRequest = z.strictObject({
  id: ChangeRequestId,
  orgId: OrgId,
  orgName: z.string(),
  kind: ChangeRequestKind,
  /** The customer's version the change was made against; approval applies it only at that version. */
  baseVersion: z.int().min(1),
  /** Every change of the edit (before: the base version's value), or the status for archive and un-archive. */
  changes: z.array(FieldChange).min(1),
  reason: z.string(),
  maker: PersonRef,
  createdAt: IsoDateTime,
  expiresAt: IsoDateTime,
  status: ChangeRequestStatus,
  checker: PersonRef.nullable(),
  checkerReason: z.string().nullable(),
  decidedAt: IsoDateTime.nullable(),
  /** For If-Match on approve and reject; every step adds one. */
  version: z.int().min(1),
  /** The history event this edit reverts ("Revert this change"); its approval's event records it. */
  revertOf: EventId.optional(),
});
export type ChangeRequest = z.infer<typeof ChangeRequest>;

/** The 202 answer of an edit, archive or un-archive that waits for approval; the customer is unchanged. */
export const ChangeRequestAccepted = z.strictObject({ changeRequest: ChangeRequest });
export type ChangeRequestAccepted = z.infer<typeof ChangeRequestAccepted>;

export const ChangeRequestQuery = z.strictObject({
  status: ChangeRequestStatus.optional(),
  orgId: OrgId.optional(),
  cursor: Cursor.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export type ChangeRequestQuery = z.input<typeof ChangeRequestQuery>;

export const ChangeRequestPage = z.strictObject({
  items: z.array(ChangeRequest),
  nextCursor: z.string().nullable(),
});
export type ChangeRequestPage = z.infer<typeof ChangeRequestPage>;

/** Approve, reject or withdraw: every step says why. */
export const ChangeDecision = z.strictObject({ reason: Reason });
export type ChangeDecision = z.infer<typeof ChangeDecision>;

export const Me = z.strictObject({
  sub: z.string(),
  name: z.string(),
  roles: z.array(Role),
});
export type Me = z.infer<typeof Me>;

/** RFC 9457 problem details, as every API error is sent. */
export const Problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.int(),
  detail: z.string().optional(),
  instance: z.string().optional(),
  requestId: z.string(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type Problem = z.infer<typeof Problem>;

/** The ETag the API sends for a customer version, and the If-Match it expects back. */
export const etagFor = (version: number): string => `"${version}"`;
