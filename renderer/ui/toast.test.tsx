// Toasts: the newest is on screen at once, however many came before it.
import { notificationsStore } from '@mantine/notifications';
import { act, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { renderApp } from '../test/render';
import { clearToasts, toast } from './toast';

describe('toast', () => {
  afterEach(() => act(() => clearToasts()));

  it('shows a fifth "Saved" at once, taking the oldest off, instead of queueing it behind four', async () => {
    renderApp(<div />);
    act(() => {
      for (let i = 1; i <= 5; i++) toast('success', 'Saved', `Customer ${i} was saved.`);
    });
    const { notifications: shown, queue } = notificationsStore.getState();
    expect(queue).toHaveLength(0);
    expect(shown.map((n) => n.message)).toEqual(['Customer 2 was saved.', 'Customer 3 was saved.', 'Customer 4 was saved.', 'Customer 5 was saved.']);
    expect(await screen.findByText('Customer 5 was saved.')).toBeInTheDocument();
  });
});
