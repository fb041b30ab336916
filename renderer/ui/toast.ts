import { notifications, notificationsStore } from '@mantine/notifications';

type Tone = 'success' | 'error' | 'info';
const COLORS: Record<Tone, string> = { success: 'teal', error: 'red', info: 'gray' };

/**
 * A toast with an accessible close button; title and message are plain text.
 * The newest is always shown: when the screen holds as many as it may, the
 * oldest goes first, instead of the new one waiting in the queue until an older
 * one times out (a fifth "Saved" in a row came seconds late).
 */
export function toast(tone: Tone, title: string, message: string): void {
  const { notifications: shown, limit } = notificationsStore.getState();
  const oldest = shown[0];
  if (shown.length >= limit && oldest?.id) notifications.hide(oldest.id);
  notifications.show({ color: COLORS[tone], title, message, closeButtonProps: { 'aria-label': 'Dismiss notification' } });
}

/** Takes every toast off the screen, shown or queued: they may name what the previous user did. */
export function clearToasts(): void {
  notifications.clean();
  notifications.cleanQueue();
}
