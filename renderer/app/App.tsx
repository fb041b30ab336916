import { Center, Loader, Stack } from '@mantine/core';
import { useRef } from 'react';
import type { Me } from '../../shared/api';
import { LockedScreen } from '../features/session/LockedScreen';
import { SignInScreen } from '../features/session/SignInScreen';
import { useSession } from '../features/session/useSession';
import { ErrorState } from '../ui/states';
import { Shell } from './Shell';

/**
 * The session decides what the window shows. While locked (and while unlocking
 * signs in again) the console stays mounted underneath, inert, so open forms
 * keep exactly what was typed.
 */
export function App() {
  const session = useSession();
  const lastUser = useRef<Me | null>(null);

  if (session.isPending) {
    return (
      <Center h="100vh">
        <Loader aria-label="Starting CIMS Console" />
      </Center>
    );
  }
  if (session.isError) {
    return (
      <Center h="100vh">
        <Stack w={440}>
          <ErrorState title="CIMS Console could not start" error={session.error} onRetry={() => void session.refetch()} />
        </Stack>
      </Center>
    );
  }
  const s = session.data;
  if (s.status === 'signedIn' && s.user) lastUser.current = s.user;
  if (s.status === 'signedOut') lastUser.current = null;
  // Locked, or signing in again after a lock: keep the console of the user who was here.
  const user = s.status === 'signedOut' ? null : (s.user ?? lastUser.current);

  if (!user) return <SignInScreen session={s} />;
  const covered = s.status !== 'signedIn';
  return (
    <>
      <div inert={covered} aria-hidden={covered || undefined} className="app-root">
        <Shell key={user.sub} user={user} />
      </div>
      {s.status === 'locked' && <LockedScreen session={s} />}
      {s.status === 'signingIn' && <SignInScreen session={s} overlay />}
    </>
  );
}
