// "Export diagnostic logs" in the account menu: the person is told where the file
// went, or why it could not be saved; a cancelled save dialog says nothing.
// window.cims is the stand-in bridge (renderer/test/standInBridge.ts).
import userEvent from '@testing-library/user-event';
import { notifications } from '@mantine/notifications';
import { act, screen, waitFor } from '@testing-library/react';
import { beforeEach, describe, expect, it } from 'vitest';
import { BOB, signedIn } from '../dev/demo';
import { fail, installBridge } from '../test/standInBridge';
import { renderApp } from '../test/render';
import { App } from './App';

const SAVED = '/home/bob/Downloads/cims-console-logs-2026-12-01.log';

async function exportLogs(answer: () => unknown) {
  const bridge = installBridge({
    'session:get': () => signedIn(BOB),
    'customers:list': () => ({ items: [], nextCursor: null }),
    'diagnostics:exportLogs': answer,
  });
  const user = userEvent.setup();
  renderApp(<App />);
  await user.click(await screen.findByRole('button', { name: `Account: ${BOB.name}` }));
  await user.click(await screen.findByRole('menuitem', { name: 'Export diagnostic logs' }));
  await waitFor(() => expect(bridge.inputsOf('diagnostics:exportLogs')).toHaveLength(1));
  return bridge;
}

// Mantine keeps its notifications in a module-level store: start every test with none.
beforeEach(() => act(() => notifications.clean()));

describe('export diagnostic logs', () => {
  it('says where the file was saved', async () => {
    await exportLogs(() => ({ path: SAVED }));
    expect(await screen.findByText(SAVED)).toBeInTheDocument();
    expect(screen.getByText('Diagnostic logs saved')).toBeInTheDocument();
  });

  it('shows why the logs could not be saved', async () => {
    const message = 'The diagnostic logs could not be saved: the disk is full. Choose another folder and try again.';
    await exportLogs(() => fail('internal', message));
    expect(await screen.findByText(message)).toBeInTheDocument();
    expect(screen.getByText('Diagnostic logs not saved')).toBeInTheDocument();
  });

  it('says nothing when the save dialog was cancelled', async () => {
    await exportLogs(() => ({ path: null }));
    // Give a notification the time it would take to appear.
    await new Promise((r) => setTimeout(r, 300));
    expect(screen.queryByText(/Diagnostic logs (saved|not saved)/)).not.toBeInTheDocument();
  });
});
