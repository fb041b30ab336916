// "Download evidence bundle" in audit review: it sends the applied range to
// audit:exportEvidence, shows rows and bytes while the main process writes the
// file, and says where it went, that the dialog was cancelled, or why it failed.
// window.cims is a stand-in (renderer/test/standInBridge.ts).
import { fireEvent, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { fail, installBridge } from '../../test/standInBridge';
import { renderApp } from '../../test/render';
import AuditScreen from './AuditScreen';

const noEvents = () => ({ items: [], nextCursor: null });

describe('evidence bundle download', () => {
  it('sends the applied range, shows rows and bytes while it runs, and where the file went', async () => {
    let finish: (v: unknown) => void = () => undefined;
    const bridge = installBridge({ 'audit:events': noEvents, 'audit:exportEvidence': () => new Promise((r) => (finish = r)) });
    const user = userEvent.setup();
    renderApp(<AuditScreen />);
    await screen.findByText('No audit events match these filters');
    fireEvent.change(screen.getByLabelText('From'), { target: { value: '2026-11-01' } });
    await user.type(screen.getByRole('textbox', { name: 'User' }), 'alice');
    await user.click(screen.getByRole('button', { name: 'Apply filters' }));
    await user.click(screen.getByRole('button', { name: 'Download evidence bundle' }));

    expect(await screen.findByRole('status', { name: 'Evidence bundle progress' })).toBeInTheDocument();
    bridge.emit('audit:exportProgress', { rows: 5000, done: false, bytes: 2_516_582 });
    expect(await screen.findByText('5,000 rows written (2.4 MB)…')).toBeInTheDocument();
    // The CSV export's button is not the one running.
    expect(screen.queryByRole('status', { name: 'Export progress' })).not.toBeInTheDocument();
    finish({ path: '/tmp/audit-evidence.ndjson', rows: 12000 });
    expect(await screen.findByText('Evidence bundle finished')).toBeInTheDocument();
    expect(screen.getByText('12,000 records written to /tmp/audit-evidence.ndjson')).toBeInTheDocument();
    // The range only: a bundle is a contiguous part of the chain, not a filtered list.
    expect(bridge.inputsOf('audit:exportEvidence')).toEqual([{ from: new Date('2026-11-01T00:00:00').toISOString() }]);
    expect(screen.queryByRole('status', { name: 'Evidence bundle progress' })).not.toBeInTheDocument();
  });

  it('says so when the save dialog was cancelled, and why a download failed', async () => {
    let n = 0;
    installBridge({
      'audit:events': noEvents,
      'audit:exportEvidence': () => (++n === 1 ? { path: null, rows: 0 } : fail('forbidden', 'Only support leads may export audit evidence.')),
    });
    const user = userEvent.setup();
    renderApp(<AuditScreen />);
    await screen.findByText('No audit events match these filters');
    await user.click(screen.getByRole('button', { name: 'Download evidence bundle' }));
    expect(await screen.findByText('Evidence bundle cancelled')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Download evidence bundle' }));
    expect(await screen.findByText('Evidence bundle failed')).toBeInTheDocument();
    expect(screen.getByText('Only support leads may export audit evidence.')).toBeInTheDocument();
  });
});
