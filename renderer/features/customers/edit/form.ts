// The edit form's schema: each field is the shared CustomerFields schema, fed
// from text inputs (numbers and money are typed as text, then converted and
// checked by the same shared rules the API applies).
import { z } from 'zod';
import { CustomerFields, EDITABLE_FIELDS, OrgId, Reason, type EditableField } from '../../../../shared/api';

const S = CustomerFields.shape;

const wholeNumber = z
  .string()
  .trim()
  .min(1, 'Number of users is required')
  .regex(/^[0-9]+$/, 'Number of users is a whole number')
  .transform(Number)
  .pipe(S.userCount);

const money = z
  .string()
  .trim()
  .min(1, 'Contract value is required')
  .regex(/^[0-9]+(\.[0-9]{1,2})?$/, 'Enter an amount like 12500 or 12500.50')
  .transform((v) => Math.round(Number(v) * 100))
  .pipe(S.contractValueCents);

const formShape = {
  orgName: S.orgName,
  contactName: S.contactName,
  contactEmail: z.string().trim().pipe(S.contactEmail),
  contactPhone: S.contactPhone,
  userCount: wholeNumber,
  contractValue: money,
  currency: z
    .string()
    .transform((v) => v.trim().toUpperCase())
    .pipe(S.currency),
  renewalDate: z.string().min(1, 'Renewal date is required').pipe(S.renewalDate),
  reason: Reason,
};

type Parsed = z.output<z.ZodObject<typeof formShape>> & { orgId: string };

const toOutput = ({ orgId, contractValue, reason, ...rest }: Parsed) => ({
  orgId,
  fields: CustomerFields.parse({ ...rest, contractValueCents: contractValue }),
  reason,
});

/** Editing an existing record: the org id is fixed and not validated here. */
export const EditFormSchema = z.object({ orgId: z.string(), ...formShape }).transform(toOutput);
/** A new record: the org id is typed in and checked like the API checks it. */
export const NewFormSchema = z.object({ orgId: z.string().trim().pipe(OrgId), ...formShape }).transform(toOutput);

/** What the inputs hold: text. */
export type FormValues = z.input<typeof NewFormSchema>;
export type FormOutput = z.output<typeof NewFormSchema>;

export const EMPTY_VALUES: FormValues = {
  orgId: '',
  orgName: '',
  contactName: '',
  contactEmail: '',
  contactPhone: '',
  userCount: '',
  contractValue: '',
  currency: 'EUR',
  renewalDate: '',
  reason: '',
};

/** A stored record as form text. */
export function toFormValues(fields: CustomerFields, orgId = '', reason = ''): FormValues {
  return {
    orgId,
    orgName: fields.orgName,
    contactName: fields.contactName,
    contactEmail: fields.contactEmail,
    contactPhone: fields.contactPhone,
    userCount: String(fields.userCount),
    contractValue: (fields.contractValueCents / 100).toFixed(2),
    currency: fields.currency,
    renewalDate: fields.renewalDate,
    reason,
  };
}

export function pickFields(record: CustomerFields): CustomerFields {
  return Object.fromEntries(EDITABLE_FIELDS.map((f) => [f, record[f]])) as CustomerFields;
}

/** The fields whose value differs between two versions of a record. */
export function diffFields(before: CustomerFields, after: CustomerFields): Partial<CustomerFields> {
  const changes: Partial<Record<EditableField, unknown>> = {};
  for (const f of EDITABLE_FIELDS) if (before[f] !== after[f]) changes[f] = after[f];
  return changes as Partial<CustomerFields>;
}

/** Form field name for an API/IPC error path such as `changes.contactEmail` or `customer.contractValueCents`. */
export function formFieldFor(path: string): keyof FormValues | null {
  const last = path.split('.').pop() ?? '';
  if (last === 'contractValueCents') return 'contractValue';
  if (last in EMPTY_VALUES) return last as keyof FormValues;
  return null;
}
