import type { FieldChange } from '../../shared/api';
import { fieldLabel, fieldValueText } from './fields';

/** Field: before → after, as plain text. */
export function AuditChanges({ changes }: { changes: FieldChange[] }) {
  if (changes.length === 0) return <span className="dim">No field changes</span>;
  return (
    <ul className="changes">
      {changes.map((c) => (
        <li key={c.field}>
          <span className="change-field">{fieldLabel(c.field)}:</span> <span className="before">{fieldValueText(c.field, c.before)}</span>
          <span aria-label="changed to" className="arrow">
            {' → '}
          </span>
          <span className="after">{fieldValueText(c.field, c.after)}</span>
        </li>
      ))}
    </ul>
  );
}
