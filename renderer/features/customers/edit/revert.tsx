// "Revert this change": the edit form starts from the current record with one
// history event's before-values put back. It is saved as an ordinary edit (If-Match,
// a reason, approval rules) that names the event it reverts. A field changed again
// since that event is a conflict: reverting it also undoes the later change, so the
// form says so beside the field and above the form.
import { Alert, Text } from '@mantine/core';
import type { CustomerFields, EditableField, FieldChange } from '../../../../shared/api';
import { ChangedTo } from '../../../ui/AuditChanges';
import { FIELD_LABELS, fieldValueText } from '../../../ui/fields';
import type { FormValues } from './form';

/** The event to revert, as the history row gave it (only fields a CRM can set). */
export interface RevertRequest {
  eventId: string;
  changes: FieldChange[];
}

const asField = (c: FieldChange) => c.field as EditableField;

/** The current record with the event's before-values put back. */
export function revertedFields(current: CustomerFields, revert: RevertRequest): CustomerFields {
  const out: Record<string, unknown> = { ...current };
  for (const c of revert.changes) if (c.field in current) out[c.field] = c.before;
  return out as CustomerFields;
}

/** Fields whose value is no longer what the event set: someone changed them again since. */
export function revertConflicts(current: CustomerFields, revert: RevertRequest): FieldChange[] {
  return revert.changes.filter((c) => c.field in current && current[asField(c)] !== c.after);
}

export const revertReason = (revert: RevertRequest) => `Revert of change #${revert.eventId}`;

/** The form input a field is typed in. */
export const formFieldOf = (field: EditableField): keyof FormValues => (field === 'contractValueCents' ? 'contractValue' : field);

/** What each reverted input says under itself. */
export function revertDescriptions(current: CustomerFields, revert: RevertRequest): Partial<Record<keyof FormValues, string>> {
  const conflicts = new Set(revertConflicts(current, revert).map((c) => c.field));
  const out: Partial<Record<keyof FormValues, string>> = {};
  for (const c of revert.changes) {
    if (!(c.field in current)) continue;
    const f = asField(c);
    out[formFieldOf(f)] = conflicts.has(c.field)
      ? `Conflict: changed again since #${revert.eventId}, now ${fieldValueText(f, current[f])}. Reverting sets ${fieldValueText(f, c.before)}.`
      : `Reverted to the value before #${revert.eventId}.`;
  }
  return out;
}

export function RevertNotice({ current, revert, replacedDraft }: { current: CustomerFields; revert: RevertRequest; replacedDraft: boolean }) {
  const conflicts = revertConflicts(current, revert);
  return (
    <Alert color={conflicts.length > 0 ? 'orange' : 'blue'} variant="light" title={`Reverting change #${revert.eventId}`} role="status">
      <Text size="sm">
        The form holds the current record with the values from before change #{revert.eventId}. Review and save it like any edit; fields that
        need approval are sent for approval.
        {replacedDraft && ' Your earlier unsaved changes to this customer were set aside for this.'}
      </Text>
      {conflicts.length > 0 && (
        <>
          <Text size="sm" fw={500} mt={6}>
            Changed again since then; reverting also undoes that later change:
          </Text>
          <ul className="changes" aria-label="Fields changed since the reverted change">
            {conflicts.map((c) => {
              const f = asField(c);
              return (
                <li key={c.field}>
                  <span className="change-field">{FIELD_LABELS[f]}:</span> <span className="before">{fieldValueText(f, current[f])}</span>
                  <ChangedTo />
                  <span className="after">{fieldValueText(f, c.before)}</span>
                </li>
              );
            })}
          </ul>
        </>
      )}
    </Alert>
  );
}
