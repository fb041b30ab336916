// The console as a witness: Bob verifies the trail and his console remembers the
// newest signed checkpoint; a superuser then cuts the tail of the trail and the
// checkpoints behind the API's back (triggers disabled, as only a superuser can);
// the same console reports the checkpoint it had seen as missing.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '../support/fixtures';
import { goTo } from './support';

const AUDIT_TABLES = ['audit.events', 'audit.chain', 'audit.checkpoints', 'audit.access_events'] as const;

test('Bob verifies, a superuser truncates the trail and its checkpoints, and the same console reports the checkpoint it had seen', async ({ openConsole, stack }) => {
  const app = await openConsole();
  await app.signIn(stack.account('bob'));
  const { page } = app;
  await goTo(page, 'Audit review');

  // 1. Verify: intact, up to the newest checkpoint, which the console now remembers.
  await page.getByRole('button', { name: 'Verify integrity' }).click();
  const result = page.getByRole('group', { name: 'Verification result' });
  await expect(result.getByText('Audit trail intact')).toBeVisible();
  const { rows: newest } = await stack.db.query<{ seq: string; chain_seq: string }>(
    `SELECT seq, (body ->> 'chainSeq') AS chain_seq FROM audit.checkpoints ORDER BY seq DESC LIMIT 1`,
  );
  const seen = Number(newest[0]!.seq);
  const chainSeq = Number(newest[0]!.chain_seq);
  expect(chainSeq).toBeGreaterThan(3);
  await expect(result).toContainText(`up to checkpoint #${seen}, signed`);
  await expect(result).toContainText(`This console verified checkpoint #${seen} on`);
  // Remembered in the user's data folder, as signed (the key came from the policy, not the API).
  const witnessFile = join(app.userDataDir, 'audit-witness.json');
  expect(existsSync(witnessFile)).toBe(true);
  const remembered = JSON.parse(readFileSync(witnessFile, 'utf8')) as { entries: { checkpoint: { checkpoint: { seq: number } } }[] };
  expect(remembered.entries.map((e) => e.checkpoint.checkpoint.seq)).toEqual([seen]);
  await app.screenshot('10a-witness-ok');
  await page.getByRole('button', { name: 'Dismiss' }).first().click();

  // 2. A superuser cuts the newest three links and their events, and every checkpoint that covers them.
  const cutFrom = chainSeq - 2;
  const { rows: triggers } = await stack.db.query<{ tbl: string; tgname: string; tgenabled: string }>(
    `SELECT tgrelid::regclass::text AS tbl, tgname, tgenabled FROM pg_trigger WHERE NOT tgisinternal AND tgrelid::regclass::text = ANY($1)`,
    [AUDIT_TABLES],
  );
  expect(triggers.filter((t) => t.tgenabled === 'A').length).toBeGreaterThan(0);
  const saved = await stack.db.query<{ events: unknown; links: unknown; checkpoints: unknown }>(
    `SELECT (SELECT jsonb_agg(to_jsonb(e)) FROM audit.events e WHERE e.id IN (SELECT event_id FROM audit.chain WHERE seq >= $1)) AS events,
            (SELECT jsonb_agg(to_jsonb(c)) FROM audit.chain c WHERE c.seq >= $1) AS links,
            (SELECT jsonb_agg(to_jsonb(k)) FROM audit.checkpoints k WHERE (k.body ->> 'chainSeq')::bigint >= $1) AS checkpoints`,
    [cutFrom],
  );
  for (const table of AUDIT_TABLES) await stack.db.query(`ALTER TABLE ${table} DISABLE TRIGGER USER`);
  try {
    await stack.db.query('BEGIN');
    await stack.db.query(`DELETE FROM audit.checkpoints WHERE (body ->> 'chainSeq')::bigint >= $1`, [cutFrom]);
    await stack.db.query(`DELETE FROM audit.events WHERE id IN (SELECT event_id FROM audit.chain WHERE seq >= $1)`, [cutFrom]);
    await stack.db.query(`DELETE FROM audit.chain WHERE seq >= $1`, [cutFrom]);
    await stack.db.query('COMMIT');
    const { rows: left } = await stack.db.query<{ n: string }>(`SELECT count(*) AS n FROM audit.checkpoints WHERE seq >= $1`, [seen]);
    expect(Number(left[0]!.n)).toBe(0);

    // 3. The same console verifies again: the checkpoint it had seen is gone, whatever the API concludes.
    await page.getByRole('button', { name: 'Verify integrity' }).click();
    const alarm = result.getByRole('alert').first();
    await expect(alarm).toContainText(new RegExp(`^Audit trail damaged: checkpoint #${seen} that this console verified on .+ is missing or changed`));
    await expect(alarm).toContainText('The API no longer has it.');
    // The most prominent message: the first thing in the result.
    await expect(result.locator('> *').first()).toContainText(`checkpoint #${seen} that this console verified`);
    await expect(result.getByText('Audit trail intact')).toHaveCount(0);
    await app.screenshot('10b-witness-damaged');
  } finally {
    // Put the trail back as it was, so later specs start from an intact trail.
    await stack.db.query('ROLLBACK').catch(() => undefined);
    const { events, links, checkpoints } = saved.rows[0]!;
    try {
      // Ids are identity columns: a superuser may put the old values back.
      for (const [table, rows] of [['audit.events', events], ['audit.chain', links], ['audit.checkpoints', checkpoints]] as const) {
        await stack.db.query(`INSERT INTO ${table} OVERRIDING SYSTEM VALUE SELECT * FROM jsonb_populate_recordset(NULL::${table}, $1) ON CONFLICT DO NOTHING`, [
          JSON.stringify(rows ?? []),
        ]);
      }
    } finally {
      const mode: Record<string, string> = { A: 'ENABLE ALWAYS', O: 'ENABLE', R: 'ENABLE REPLICA', D: 'DISABLE' };
      for (const t of triggers) await stack.db.query(`ALTER TABLE ${t.tbl} ${mode[t.tgenabled] ?? 'ENABLE ALWAYS'} TRIGGER ${t.tgname}`);
    }
  }

  // 4. Restored, the checkpoint it had seen is back, byte for byte: the console is satisfied again.
  // The API may sign a newer checkpoint first (the console's own screens keep writing access
  // events, and changes of earlier specs are still announced), so the console names the checkpoint
  // it verified now: the one it had seen or a later one, and raises no alarm.
  await page.getByRole('button', { name: 'Verify integrity' }).click();
  await expect(result.getByText('Audit trail intact')).toBeVisible();
  await expect(result.getByRole('alert')).toHaveCount(0);
  const verifiedNow = Number((await result.textContent())?.match(/This console verified checkpoint #(\d+) on/)?.[1]);
  expect(verifiedNow).toBeGreaterThanOrEqual(seen);
});
