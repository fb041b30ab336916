// A step that needs a reason (archive, un-archive, withdraw a request): the
// reason is checked with the shared rule before anything is sent, a failure
// stays in the dialog with what was typed, and Escape goes back.
import { Alert, Button, Group, Modal, Text, Textarea } from '@mantine/core';
import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Reason } from '../../../../shared/api';
import { describeError } from '../../../bridge/errors';
import { queryRoots } from '../../../bridge/queryKeys';

export interface ReasonDialogProps {
  opened: boolean;
  title: string;
  description: string;
  confirmLabel: string;
  /** Shown above the reason (what the step does). */
  note?: string;
  onClose: () => void;
  onConfirm: (reason: string) => Promise<void>;
  /** Refresh customers, change requests and the audit views afterwards (when onConfirm does not). */
  invalidate?: boolean;
}

export function ReasonDialog({ opened, title, description, confirmLabel, note, onClose, onConfirm, invalidate = false }: ReasonDialogProps) {
  const qc = useQueryClient();
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const close = () => {
    setError(null);
    setFailure(null);
    onClose();
  };
  const confirm = async () => {
    const parsed = Reason.safeParse(reason);
    if (!parsed.success) {
      setError(parsed.error.issues[0]?.message ?? 'Say why');
      return;
    }
    setBusy(true);
    setFailure(null);
    try {
      await onConfirm(parsed.data);
      setReason('');
      close();
    } catch (e) {
      setFailure(describeError(e));
    } finally {
      setBusy(false);
      if (invalidate) {
        void qc.invalidateQueries({ queryKey: queryRoots.customers });
        void qc.invalidateQueries({ queryKey: queryRoots.approvals });
        void qc.invalidateQueries({ queryKey: queryRoots.audit });
      }
    }
  };
  return (
    <Modal opened={opened} onClose={close} title={title} centered lockScroll={false} closeButtonProps={{ 'aria-label': 'Cancel' }}>
      {note && (
        <Text size="sm" mb="xs">
          {note}
        </Text>
      )}
      {failure && (
        <Alert color="red" variant="light" role="alert" mb="xs" title="Not done">
          {failure}
        </Alert>
      )}
      <Textarea
        label="Reason"
        description={description}
        withAsterisk
        autosize
        minRows={2}
        data-autofocus
        value={reason}
        error={error}
        onChange={(e) => {
          setReason(e.currentTarget.value);
          // The complaint about an empty reason goes once the person types one.
          setError(null);
        }}
      />
      <Group justify="flex-end" mt="md">
        <Button variant="default" onClick={close}>
          Cancel
        </Button>
        <Button loading={busy} onClick={() => void confirm()}>
          {confirmLabel}
        </Button>
      </Group>
    </Modal>
  );
}
