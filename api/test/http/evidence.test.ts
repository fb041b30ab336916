// The evidence bundle end to end: the API streams it from real PostgreSQL with a
// real Ed25519 key, and the real `cims-verify` command (spawned, no database)
// passes it, and fails it when one byte of an event or a checkpoint's signature
// was changed. Refused to CRMs and admins; every bundle writes its access event.
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointSignedBytes } from '../../../shared/audit';
import { EvidenceLine, type EvidenceCheckpoint, type EvidenceHeader, type EvidenceLink } from '../../../shared/evidence';
import { publicKeyPem } from '../../src/audit/keys';
import { customerFields } from '../../../testing/db';
import { expectProblem, startHarness, type Harness } from './harness';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** What `npx cims-verify` runs: the bin that npm links from api/package.json. */
const BIN = join(ROOT, 'node_modules', '.bin', 'cims-verify');

let h: Harness;
let dir: string;
/** Between the first and the second batch of events. */
let middle = '';

async function createCustomers(from: number, n: number): Promise<void> {
  for (let i = from; i < from + n; i++) {
    const orgId = `ORG-${String(700 + i).padStart(6, '0')}`;
    const res = await h.call('owner', 'POST', '/v1/customers', {
      body: { customer: { orgId, ...customerFields({ orgName: `Evidence ${i}` }) }, reason: `Signed contract number ${i}` },
    });
    expect(res.statusCode, res.body).toBe(201);
    // A record read: an access event for the checkpoints to cover.
    expect((await h.call('owner', 'GET', `/v1/customers/${orgId}`)).statusCode).toBe(200);
  }
  await h.db.store.sealAudit();
  expect((await h.app.auditTrail.checkpointNow()).status).toBe('signed');
}

beforeAll(async () => {
  h = await startHarness();
  dir = mkdtempSync(join(tmpdir(), 'cims-evidence-'));
  await createCustomers(0, 3);
  await new Promise((r) => setTimeout(r, 50));
  middle = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 50));
  await createCustomers(3, 3);
});
afterAll(async () => {
  await h?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function parse(body: string): EvidenceLine[] {
  return body.trimEnd().split('\n').map((l) => EvidenceLine.parse(JSON.parse(l)));
}

function write(name: string, lines: EvidenceLine[] | string): string {
  const path = join(dir, name);
  writeFileSync(path, typeof lines === 'string' ? lines : lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
  return path;
}

interface Verified {
  status: number | null;
  out: Record<string, unknown> & { ok?: boolean; problem?: string; keys?: { source: string; keyIds: string[] } };
  text: string;
}

/** Runs the real command on a file. */
function verify(file: string, ...args: string[]): Verified {
  const r = spawnSync(BIN, [file, '--json', ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, DATABASE_URL: '' } });
  let out = {};
  try {
    out = JSON.parse(r.stdout) as Record<string, unknown>;
  } catch {
    // unreadable input: the message is on stderr
  }
  return { status: r.status, out, text: r.stdout + r.stderr };
}

async function bundle(query = ''): Promise<{ body: string; lines: EvidenceLine[]; header: EvidenceHeader }> {
  const res = await h.call('lead', 'GET', `/v1/audit/evidence${query}`);
  expect(res.statusCode, res.body).toBe(200);
  expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/);
  expect(res.headers['content-disposition']).toMatch(/^attachment; filename="audit-evidence-.+\.ndjson"$/);
  const lines = parse(res.body);
  const header = lines[0] as EvidenceHeader;
  expect(header.type).toBe('header');
  return { body: res.body, lines, header };
}

const links = (lines: EvidenceLine[]) => lines.filter((l): l is EvidenceLink => l.type === 'link');
const checkpoints = (lines: EvidenceLine[]) => lines.filter((l): l is EvidenceCheckpoint => l.type === 'checkpoint');

describe('GET /v1/audit/evidence', () => {
  it('streams the whole trail, which cims-verify passes with the keys it carries (npx, exit 0)', async () => {
    const { body, lines, header } = await bundle();
    expect(header).toMatchObject({ format: 'cims-audit-evidence', version: 1, anchor: null, range: { from: null, to: null } });
    expect(header.keys.map((k) => k.keyId)).toEqual([h.app.auditTrail.keyId]);
    expect(links(lines).length).toBe(header.events);
    expect(header.events).toBeGreaterThanOrEqual(6);
    expect(checkpoints(lines).map((c) => c.checkpoint.seq)).toEqual([1, 2]);
    expect(lines.filter((l) => l.type === 'access').length).toBe(header.accessEvents);
    expect(header.accessEvents).toBeGreaterThanOrEqual(6);
    expect(lines.at(-1)).toEqual({ type: 'end', events: header.events, checkpoints: header.checkpoints, accessEvents: header.accessEvents });

    const file = write('whole.ndjson', body);
    const r = spawnSync('npx', ['cims-verify', file], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('INTACT');
    expect(r.stdout).toContain(`from the bundle itself`);
    expect(r.stdout).toContain('newest:    checkpoint #2');
    expect(verify(file).out).toMatchObject({ ok: true, checked: header.events, accessChecked: header.accessEvents, checkpoint: { seq: 2 } });
  });

  it('a range holds the segment between two checkpoints that covers it, and verifies on its own', async () => {
    const { body, lines, header } = await bundle(`?from=${encodeURIComponent(middle)}`);
    // Starts after checkpoint #1 (the first batch), so only the second batch's events are in it.
    expect(header.anchor?.checkpoint.seq).toBe(1);
    expect(header.chain.from).toBe(header.anchor!.checkpoint.chainSeq + 1);
    expect(checkpoints(lines).map((c) => c.checkpoint.seq)).toEqual([2]);
    const reasons = links(lines).map((l) => l.event?.reason);
    expect(reasons).toContain('Signed contract number 3');
    expect(reasons).not.toContain('Signed contract number 2');
    const r = verify(write('range.ndjson', body));
    expect(r.status, r.text).toBe(0);
    expect(r.out).toMatchObject({ ok: true, checked: header.events });
  });

  it('one byte changed in an event (its reason) fails with hash_mismatch at that event (exit 1)', async () => {
    const { body, lines } = await bundle();
    const target = links(lines).find((l) => l.event?.reason === 'Signed contract number 4')!;
    const before = '"reason":"Signed contract number 4"';
    expect(body.split(before)).toHaveLength(2);
    const r = verify(write('edited.ndjson', body.replace(before, '"reason":"Signed contract number 5"')));
    expect(r.status, r.text).toBe(1);
    expect(r.out).toMatchObject({ ok: false, problem: 'hash_mismatch', firstBadEventId: target.eventId, chainSeq: String(target.seq) });
    // The same file unchanged passes: the byte is what fails it.
    expect(verify(write('unedited.ndjson', body)).status).toBe(0);
  });

  it('a checkpoint whose signature was replaced fails with bad_signature at that checkpoint (exit 1)', async () => {
    const { lines } = await bundle();
    const forger = generateKeyPairSync('ed25519').privateKey;
    const forged = lines.map((l) =>
      l.type === 'checkpoint' && l.checkpoint.seq === 2 ? { ...l, signature: sign(null, checkpointSignedBytes(l.checkpoint), forger).toString('base64url') } : l,
    );
    const r = verify(write('forged.ndjson', forged));
    expect(r.status, r.text).toBe(1);
    expect(r.out).toMatchObject({ ok: false, problem: 'bad_signature', checkpointSeq: 2 });
  });

  it('--keys: checked against the auditor\'s own keys, and says so; a bundle signed by another key fails', async () => {
    const { body } = await bundle();
    const file = write('keys.ndjson', body);
    const own = write('own.pem', publicKeyPem(h.audit.publicKey));
    const r = verify(file, '--keys', own);
    expect(r.status, r.text).toBe(0);
    expect(r.out.keys).toEqual({ source: own, keyIds: [h.app.auditTrail.keyId] });
    const other = write('other.pem', publicKeyPem(generateKeyPairSync('ed25519').publicKey));
    const refused = verify(file, '--keys', other);
    expect(refused.status, refused.text).toBe(1);
    expect(refused.out).toMatchObject({ ok: false, problem: 'bad_signature', checkpointSeq: 1 });
  });

  it('a file cut short, or not a bundle, is unreadable (exit 2)', async () => {
    const { body } = await bundle();
    const cut = body.slice(0, body.lastIndexOf('{"type":"end"'));
    const r = verify(write('cut.ndjson', cut));
    expect(r.status, r.text).toBe(2);
    expect(r.text).toContain('cut short');
    expect(verify(write('garbage.ndjson', 'not json\n')).status).toBe(2);
    expect(verify(join(dir, 'missing.ndjson')).status).toBe(2);
  });

  it('writes one access event with its range and counts; a refused CRM or admin writes none and gets 403', async () => {
    const count = async () => Number((await h.db.admin.query<{ n: string }>("SELECT count(*) AS n FROM audit.access_events WHERE kind = 'audit.evidence'")).rows[0]?.n);
    const before = await count();
    for (const who of ['owner', 'otherCrm', 'admin'] as const) expectProblem(await h.call(who, 'GET', '/v1/audit/evidence'), 403);
    expect(await count()).toBe(before);

    const { header } = await bundle(`?from=${encodeURIComponent(middle)}`);
    expect(await count()).toBe(before + 1);
    const { rows } = await h.db.admin.query<{ actor_sub: string; entity_id: string | null; detail: Record<string, unknown> }>(
      "SELECT actor_sub, entity_id, detail FROM audit.access_events WHERE kind = 'audit.evidence' ORDER BY id DESC LIMIT 1",
    );
    expect(Date.parse(String((rows[0]?.detail.filter as { from?: unknown }).from))).toBe(Date.parse(middle));
    expect(rows[0]).toEqual({
      actor_sub: 'bob',
      entity_id: null,
      detail: {
        filter: { from: expect.any(String) },
        events: header.events,
        checkpoints: header.checkpoints,
        accessEvents: header.accessEvents,
        chainFrom: header.chain.from,
        chainTo: header.chain.to,
      },
    });
  });
});

describe('the bundle does not trust itself', () => {
  it('the checkpoint a range starts after must carry a valid signature too', async () => {
    const { lines, header } = await bundle(`?from=${encodeURIComponent(middle)}`);
    const anchor = header.anchor!;
    // Another start for the segment, signed by a key nobody trusts.
    const moved = { ...anchor.checkpoint, chainHead: 'f'.repeat(64) };
    const forger = generateKeyPairSync('ed25519').privateKey;
    const forged = lines.map((l) =>
      l.type === 'header' ? { ...l, anchor: { checkpoint: moved, signature: sign(null, checkpointSignedBytes(moved), forger).toString('base64url') } } : l,
    );
    const r = verify(write('anchor.ndjson', forged));
    expect(r.status, r.text).toBe(1);
    expect(r.out).toMatchObject({ ok: false, problem: 'bad_signature', checkpointSeq: anchor.checkpoint.seq });
  });

  it('an event dropped from the middle breaks the chain', async () => {
    const { lines } = await bundle();
    const victim = links(lines)[2]!;
    const dropped = lines
      .filter((l) => !(l.type === 'link' && l.seq === victim.seq))
      .map((l) => (l.type === 'end' ? { ...l, events: l.events - 1 } : l));
    const r = verify(write('dropped.ndjson', dropped));
    expect(r.status, r.text).toBe(1);
    expect(r.out).toMatchObject({ ok: false, problem: 'chain_break', chainSeq: String(victim.seq) });
  });
});
