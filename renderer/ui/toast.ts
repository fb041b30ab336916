import { notifications } from '@mantine/notifications';

type Tone = 'success' | 'error' | 'info';
const COLORS: Record<Tone, string> = { success: 'teal', error: 'red', info: 'gray' };

/** A toast with an accessible close button; title and message are plain text. */
export function toast(tone: Tone, title: string, message: string): void {
  notifications.show({ color: COLORS[tone], title, message, closeButtonProps: { 'aria-label': 'Dismiss notification' } });
}

/** Takes every toast off the screen, shown or queued: they may name what the previous user did. */
export function clearToasts(): void {
  notifications.clean();
  notifications.cleanQueue();
}
