import { Text } from '@mantine/core';
import { useEffect, useState } from 'react';

function remaining(deadline: string): number {
  return Math.max(0, Math.round((new Date(deadline).getTime() - Date.now()) / 1000));
}

/** Seconds left until the sign-in attempt gives up, as m:ss. */
export function Countdown({ deadline }: { deadline: string }) {
  const [left, setLeft] = useState(() => remaining(deadline));
  useEffect(() => {
    setLeft(remaining(deadline));
    const t = setInterval(() => setLeft(remaining(deadline)), 1000);
    return () => clearInterval(t);
  }, [deadline]);
  const m = Math.floor(left / 60);
  const s = String(left % 60).padStart(2, '0');
  return (
    <Text size="sm" c="dimmed" aria-live="off">
      This attempt ends in <span className="mono">{`${m}:${s}`}</span>
    </Text>
  );
}
