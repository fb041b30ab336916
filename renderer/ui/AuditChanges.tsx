import { VisuallyHidden } from '@mantine/core';
import type { FieldChange } from '../../shared/api';
import { fieldLabel, fieldValueText } from './fields';

/** The arrow between a before and an after value: seen as "→", heard as "changed to" (a span may not carry aria-label). */
export function ChangedTo() {
  return (
    <>
      <span aria-hidden="true" className="arrow">
        {' → '}
      </span>
      <VisuallyHidden>changed to </VisuallyHidden>
    </>
  );
}

/** Field: before → after, as plain text. */
export function AuditChanges({ changes }: { changes: FieldChange[] }) {
  if (changes.length === 0) return <span className="dim">No field changes</span>;
  return (
    <ul className="changes">
      {changes.map((c) => (
        <li key={c.field}>
          <span className="change-field">{fieldLabel(c.field)}:</span> <span className="before">{fieldValueText(c.field, c.before)}</span>
          <ChangedTo />
          <span className="after">{fieldValueText(c.field, c.after)}</span>
        </li>
      ))}
    </ul>
  );
}
