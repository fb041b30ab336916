import { Alert, Button, Group, Modal, Table, Text } from '@mantine/core';
import { EDITABLE_FIELDS, type CustomerFields, type EditableField } from '../../../../shared/api';
import { FIELD_LABELS, fieldValueText } from '../../../ui/fields';

export interface ReviewDialogProps {
  opened: boolean;
  before: CustomerFields | null;
  changes: Partial<CustomerFields>;
  reason: string;
  /** Fields whose change needs a support lead's approval (the approval rules). */
  approvalFields?: readonly EditableField[];
  saving: boolean;
  onSave: () => void;
  onClose: () => void;
}

/** Exactly what will change, before → after. Enter saves (the button has focus), Escape goes back. */
export function ReviewDialog({ opened, before, changes, reason, approvalFields = [], saving, onSave, onClose }: ReviewDialogProps) {
  const fields = EDITABLE_FIELDS.filter((f) => f in changes);
  const needApproval = fields.filter((f) => approvalFields.includes(f));
  return (
    <Modal opened={opened} onClose={onClose} title="Review changes" size="lg" centered lockScroll={false} closeButtonProps={{ 'aria-label': 'Back to editing' }}>
      {fields.length === 0 ? (
        <Text size="sm">You have not changed anything yet.</Text>
      ) : (
        <Table withTableBorder verticalSpacing={4} fz="sm" aria-label="Changes to save" className="dense-table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Field</Table.Th>
              <Table.Th>Before</Table.Th>
              <Table.Th>After</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {fields.map((f) => (
              <Table.Tr key={f}>
                <Table.Td>{FIELD_LABELS[f]}</Table.Td>
                <Table.Td className="before">{before ? fieldValueText(f, before[f]) : '—'}</Table.Td>
                <Table.Td className="after">{fieldValueText(f, changes[f] ?? null)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      <Text size="sm" mt="sm">
        <strong>Reason:</strong> {reason}
      </Text>
      {needApproval.length > 0 && (
        <Alert color="blue" variant="light" mt="sm" title="This change is sent for approval" role="status">
          {needApproval.map((f) => FIELD_LABELS[f]).join(', ')} {needApproval.length === 1 ? 'needs' : 'need'} a support lead’s approval, so{' '}
          {fields.length === 1 ? 'the change waits' : `all ${fields.length} changes of this edit wait together`}. The record stays as it is until then.
        </Alert>
      )}
      <Group justify="flex-end" mt="md">
        <Button variant="default" onClick={onClose}>
          Back to editing
        </Button>
        <Button onClick={onSave} loading={saving} disabled={fields.length === 0} data-autofocus>
          {needApproval.length > 0 ? 'Send for approval' : 'Save changes'}
        </Button>
      </Group>
    </Modal>
  );
}
