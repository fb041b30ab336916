import { Alert, Button, Paper, Stack, Text, Title } from '@mantine/core';
import type { SessionState } from '../../../shared/ipc';
import { describeError } from '../../bridge/errors';
import { useSessionAction } from './api';

/**
 * Shown over the (still mounted, inert) console while it is locked, so open
 * forms keep what was typed. Unlocking signs in again.
 */
export function LockedScreen({ session }: { session: SessionState }) {
  const unlock = useSessionAction('session:signIn');
  const signOut = useSessionAction('session:signOut');
  return (
    <div className="lock-overlay" role="dialog" aria-modal="true" aria-labelledby="lock-title">
      <Paper withBorder shadow="md" p="xl" radius="md" w={440}>
        <Stack gap="md">
          <Title order={2} id="lock-title">
            Console locked
          </Title>
          <Text size="sm">
            {session.message ?? 'The console locked itself after a period of inactivity.'} Your unsaved changes are kept.
          </Text>
          {session.user && (
            <Text size="sm" c="dimmed">
              Signed in as {session.user.name}
            </Text>
          )}
          {(unlock.isError || signOut.isError) && (
            <Alert color="red" variant="light" role="alert">
              {describeError(unlock.error ?? signOut.error)}
            </Alert>
          )}
          <Button onClick={() => unlock.mutate({})} loading={unlock.isPending} autoFocus>
            Unlock
          </Button>
          <Button variant="subtle" color="gray" onClick={() => signOut.mutate({})} loading={signOut.isPending}>
            Sign out instead
          </Button>
        </Stack>
      </Paper>
    </div>
  );
}
