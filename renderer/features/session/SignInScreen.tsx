import { Alert, Button, CopyButton, Group, Loader, Paper, Stack, Text, TextInput, Title } from '@mantine/core';
import type { SessionState } from '../../../shared/ipc';
import { describeError } from '../../bridge/errors';
import { useSessionAction } from './api';
import { Countdown } from './Countdown';

function issuerHost(issuer: string): string {
  try {
    return new URL(issuer).host;
  } catch {
    return issuer;
  }
}

/** Signed out, or waiting for the system browser. */
export function SignInScreen({ session, overlay = false }: { session: SessionState; overlay?: boolean }) {
  const panel = (
    <Paper withBorder shadow="sm" p="xl" radius="md" w={460}>
      {session.status === 'signingIn' ? <SigningIn session={session} /> : <SignedOut session={session} />}
    </Paper>
  );
  // Over a locked console (unlocking) it is a modal layer; otherwise the whole window.
  return overlay ? (
    <div className="lock-overlay" role="dialog" aria-modal="true" aria-label="Signing in">
      {panel}
    </div>
  ) : (
    <main className="center-screen">{panel}</main>
  );
}

function SignedOut({ session }: { session: SessionState }) {
  const signIn = useSessionAction('session:signIn');
  return (
    <Stack gap="md">
      <div>
        <Title order={2}>CIMS Console</Title>
        <Text c="dimmed" size="sm">
          Customer records, predictions and audit trails
        </Text>
      </div>
      {session.message && (
        <Alert color="orange" variant="light" title="You are signed out" role="alert">
          {session.message}
        </Alert>
      )}
      {signIn.isError && (
        <Alert color="red" variant="light" title="Sign-in did not start" role="alert">
          {describeError(signIn.error)}
        </Alert>
      )}
      <Text size="sm">
        You sign in with your company account at <strong className="mono">{issuerHost(session.issuer)}</strong>. Your browser
        opens for it; come back here when you are done.
      </Text>
      <Button onClick={() => signIn.mutate({})} loading={signIn.isPending} autoFocus>
        Sign in with your company account
      </Button>
      <Text size="xs" c="dimmed" className="wrap-anywhere">
        Identity provider: {session.issuer}
      </Text>
    </Stack>
  );
}

function SigningIn({ session }: { session: SessionState }) {
  const cancel = useSessionAction('session:cancelSignIn');
  return (
    <Stack gap="md">
      <Group gap="sm">
        <Loader size="sm" />
        <Title order={2}>Continue in your browser</Title>
      </Group>
      <Text size="sm">
        We opened your browser at <strong className="mono">{issuerHost(session.issuer)}</strong>. Sign in there; this window
        continues by itself when you are done.
      </Text>
      {session.signInDeadline && <Countdown deadline={session.signInDeadline} />}
      {session.signInUrl && (
        <Stack gap={4}>
          <Text size="sm" fw={500}>
            Browser did not open? Copy this link into it:
          </Text>
          <Group gap="xs" wrap="nowrap">
            <TextInput
              aria-label="Sign-in link"
              value={session.signInUrl}
              readOnly
              className="grow"
              size="xs"
              onFocus={(e) => e.currentTarget.select()}
            />
            <CopyButton value={session.signInUrl}>
              {({ copied, copy }) => (
                <Button size="xs" variant="default" onClick={copy}>
                  {copied ? 'Copied' : 'Copy link'}
                </Button>
              )}
            </CopyButton>
          </Group>
        </Stack>
      )}
      {cancel.isError && (
        <Alert color="red" variant="light" role="alert">
          {describeError(cancel.error)}
        </Alert>
      )}
      <Group justify="flex-end">
        <Button variant="default" onClick={() => cancel.mutate({})} loading={cancel.isPending}>
          Cancel sign-in
        </Button>
      </Group>
    </Stack>
  );
}
