// "Export CSV" with its progress, for every export of the audit review (the
// audit trail, the access log, the evidence bundle): the main process saves the
// file and reports rows and bytes written as audit:exportProgress.
import { Button, Group, Progress, Stack, Text } from '@mantine/core';
import type { UseMutationResult } from '@tanstack/react-query';
import { useState } from 'react';
import type { ChannelOutput } from '../../../shared/ipc';
import { describeError } from '../../bridge/errors';
import { useBridgeEvent } from '../../bridge/useBridgeEvent';
import { formatBytes } from '../../ui/format';
import { toast } from '../../ui/toast';

type ExportResult = ChannelOutput<'audit:exportCsv'>;

export function ExportButton<I>({
  exportCsv,
  input,
  what,
  label = 'Export CSV',
  name = 'Export',
}: {
  exportCsv: UseMutationResult<ExportResult, Error, I>;
  input: I;
  /** What the rows are, for the message when it is done ("events"). */
  what: string;
  label?: string;
  /** What the messages call it: "<name> finished", "<name> failed". */
  name?: string;
}) {
  const [progress, setProgress] = useState<{ rows: number; done: boolean; bytes?: number | undefined } | null>(null);
  useBridgeEvent('audit:exportProgress', (p) => setProgress(p));
  const run = () => {
    setProgress({ rows: 0, done: false });
    exportCsv.mutate(input, {
      onSuccess: (r) =>
        r.path === null
          ? toast('info', `${name} cancelled`, 'No file was written.')
          : toast('success', `${name} finished`, `${r.rows.toLocaleString()} ${what} written to ${r.path}`),
      onError: (e) => toast('error', `${name} failed`, describeError(e)),
      onSettled: () => setProgress(null),
    });
  };
  return (
    <Group gap={6} wrap="nowrap">
      {exportCsv.isPending && progress && (
        <Stack gap={2} w={210} role="status" aria-label={`${name} progress`}>
          <Progress value={100} striped animated size="sm" aria-label="Exporting" />
          <Text size="xs" c="dimmed">
            {progress.rows.toLocaleString()} rows written{progress.bytes ? ` (${formatBytes(progress.bytes)})` : ''}…
          </Text>
        </Stack>
      )}
      <Button size="xs" variant="default" onClick={run} loading={exportCsv.isPending}>
        {label}
      </Button>
    </Group>
  );
}
