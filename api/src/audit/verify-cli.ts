// cims-verify: checks an evidence bundle (shared/evidence.ts) offline, with the
// API's own verifier (verify.ts): no database, no network. Exit 0 when the
// bundle is intact, 1 when it is not, 2 when it cannot be read.
//
//   npx cims-verify FILE [--keys KEYS.pem] [--json]
//
// --keys: verify against the public keys in KEYS.pem (PEM blocks, as given to the
// API in CIMS_AUDIT_PUBLIC_KEYS) instead of the keys the bundle carries.
import { createReadStream } from 'node:fs';
import { createPublicKey } from 'node:crypto';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import type { AuditVerifyResult } from '../../../shared/api';
import { EvidenceLine, type EvidenceCheckpoint, type EvidenceHeader } from '../../../shared/evidence';
import { keyIdOf, type TrustedKey } from './hash';
import { readPublicKeys } from './keys';
import { verifyAuditTrail, type AccessRow, type ChainRow, type StoredCheckpoint } from './verify';

export const EXIT = { intact: 0, damaged: 1, unreadable: 2 } as const;

class Unreadable extends Error {}

const ORDER = ['header', 'checkpoint', 'link', 'access', 'end'] as const;

/** The file's lines, parsed and in the bundle's order; throws Unreadable with the line number otherwise. */
async function* readLines(file: string): AsyncGenerator<EvidenceLine> {
  const input = createReadStream(file, { encoding: 'utf8' });
  const lines = createInterface({ input, crlfDelay: Infinity });
  let n = 0;
  let stage = 0;
  try {
    for await (const text of lines) {
      n++;
      if (text === '' && stage === ORDER.length - 1) continue;
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new Unreadable(`line ${n} is not JSON`);
      }
      const parsed = EvidenceLine.safeParse(json);
      if (!parsed.success) {
        const version = n === 1 && typeof json === 'object' && json !== null && 'version' in json ? (json as { version: unknown }).version : undefined;
        throw new Unreadable(
          version !== undefined && version !== 1 ? `format version ${String(version)} is not supported (this command reads version 1)` : `line ${n} is not a line of an evidence bundle: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
        );
      }
      const at = ORDER.indexOf(parsed.data.type);
      if (n === 1 ? at !== 0 : at < stage || at === 0 || stage === ORDER.length - 1) {
        throw new Unreadable(n === 1 ? 'the file does not start with an evidence bundle header' : `line ${n} (${parsed.data.type}) is out of order`);
      }
      stage = at;
      yield parsed.data;
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code) throw new Unreadable(`cannot read ${file} (${(err as NodeJS.ErrnoException).code})`);
    throw err;
  } finally {
    lines.close();
    input.destroy();
  }
  if (stage !== ORDER.length - 1) throw new Unreadable('the file ends before its end line: it was cut short');
}

async function* only<T extends EvidenceLine['type']>(file: string, type: T): AsyncGenerator<Extract<EvidenceLine, { type: T }>> {
  for await (const line of readLines(file)) if (line.type === type) yield line as Extract<EvidenceLine, { type: T }>;
}

interface Bundle {
  header: EvidenceHeader;
  checkpoints: StoredCheckpoint[];
}

/** First pass: the header and the checkpoints (the verifier takes them as a list); the lines are counted against the end line. */
async function readBundle(file: string): Promise<Bundle> {
  let header: EvidenceHeader | undefined;
  const checkpoints: StoredCheckpoint[] = [];
  const seen = { events: 0, checkpoints: 0, accessEvents: 0 };
  for await (const line of readLines(file)) {
    if (line.type === 'header') header = line;
    else if (line.type === 'checkpoint') {
      const { type: _type, ...cp }: EvidenceCheckpoint = line;
      checkpoints.push(cp);
      seen.checkpoints++;
    } else if (line.type === 'link') seen.events++;
    else if (line.type === 'access') seen.accessEvents++;
    else if (line.events !== seen.events || line.checkpoints !== seen.checkpoints || line.accessEvents !== seen.accessEvents) {
      throw new Unreadable(
        `the end line counts ${line.events} events, ${line.checkpoints} checkpoints, ${line.accessEvents} access events; the file holds ${seen.events}, ${seen.checkpoints}, ${seen.accessEvents}`,
      );
    }
  }
  if (!header) throw new Unreadable('the file is empty');
  return { header, checkpoints };
}

interface Keys {
  source: string;
  keys: TrustedKey[];
}

function bundleKeys(header: EvidenceHeader): Keys {
  const keys = header.keys.map((k) => {
    const publicKey = createPublicKey({ key: k.jwk, format: 'jwk' });
    if (keyIdOf(publicKey) !== k.keyId) throw new Unreadable(`the bundle's key ${k.keyId} is another key than its id says`);
    return { keyId: k.keyId, publicKey };
  });
  return { source: 'the bundle itself (pass --keys to check against keys you trust)', keys };
}

function fileKeys(path: string): Keys {
  try {
    return { source: path, keys: readPublicKeys(path, '--keys') };
  } catch (err) {
    throw new Unreadable(err instanceof Error ? err.message : String(err));
  }
}

export interface CliOutput {
  code: number;
  text: string;
}

function report(file: string, bundle: Bundle, keys: Keys, result: AuditVerifyResult): string {
  const h = bundle.header;
  const range = `${h.range.from ?? 'the start'} to ${h.range.to ?? 'the end'}`;
  const cps = bundle.checkpoints;
  const span = cps.length ? `checkpoints #${cps[0]!.checkpoint.seq} to #${cps.at(-1)!.checkpoint.seq}` : 'no checkpoint after the first';
  const out = [
    `Evidence bundle ${file}`,
    `  range:     events ${range}, generated ${h.generatedAt}`,
    `  segment:   links ${h.chain.from} to ${h.chain.to}, ${span}${h.anchor ? `, starting after checkpoint #${h.anchor.checkpoint.seq}` : ', from the start of the trail'}`,
    `  keys:      ${keys.keys.map((k) => k.keyId).join(', ') || 'none'}, from ${keys.source}`,
    `  checked:   ${result.checked} events, ${result.accessChecked} access events`,
  ];
  if (result.checkpoint) out.push(`  newest:    checkpoint #${result.checkpoint.seq}, signed ${result.checkpoint.signedAt} by key ${result.checkpoint.keyId}`);
  if (result.ok) out.push('INTACT: every event, link, checkpoint and access event verifies');
  else {
    out.push(`NOT INTACT (${result.problem}): ${result.detail}`);
    const where = [
      result.firstBadEventId !== undefined ? `event ${result.firstBadEventId}` : null,
      result.chainSeq !== undefined ? `link ${result.chainSeq}` : null,
      result.checkpointSeq !== undefined ? `checkpoint #${result.checkpointSeq}` : null,
      result.accessEventId !== undefined ? `access event ${result.accessEventId}` : null,
    ].filter((w) => w !== null);
    if (where.length) out.push(`  first:     ${where.join(', ')}`);
  }
  return `${out.join('\n')}\n`;
}

const USAGE = 'usage: cims-verify FILE [--keys KEYS.pem] [--json]\n';

/** The command without the process: arguments in, exit code and text out. */
export async function runVerify(argv: readonly string[]): Promise<CliOutput> {
  let args;
  try {
    args = parseArgs({ args: [...argv], allowPositionals: true, options: { keys: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    return { code: EXIT.unreadable, text: `${err instanceof Error ? err.message : String(err)}\n${USAGE}` };
  }
  if (args.values.help) return { code: EXIT.intact, text: USAGE };
  const [file, ...extra] = args.positionals;
  if (!file || extra.length) return { code: EXIT.unreadable, text: USAGE };
  try {
    const bundle = await readBundle(file);
    const keys = args.values.keys ? fileKeys(args.values.keys) : bundleKeys(bundle.header);
    const result = await verifyAuditTrail({
      links: (async function* (): AsyncGenerator<ChainRow> {
        for await (const { type: _type, ...link } of only(file, 'link')) yield link;
      })(),
      checkpoints: bundle.checkpoints,
      access: (async function* (): AsyncGenerator<AccessRow> {
        for await (const line of only(file, 'access')) yield line.row;
      })(),
      witnesses: [],
      trustedKeys: keys.keys,
      unlinked: 0,
      // Fresh as of when it was made: the bundle is a snapshot.
      now: new Date(bundle.header.generatedAt),
      intervalMs: bundle.header.intervalMs,
      anchor: bundle.header.anchor ?? undefined,
    });
    const code = result.ok ? EXIT.intact : EXIT.damaged;
    const text = args.values.json ? `${JSON.stringify({ ...result, keys: { source: keys.source, keyIds: keys.keys.map((k) => k.keyId) } })}\n` : report(file, bundle, keys, result);
    return { code, text };
  } catch (err) {
    if (err instanceof Unreadable) return { code: EXIT.unreadable, text: `cims-verify: ${file}: ${err.message}\n` };
    throw err;
  }
}
