// Where checkpoints go besides the database: storage the database's
// administrators do not control, so a trail rewritten inside the database is
// still measured against what was signed (docs/audit-anchoring.md).
import { constants } from 'node:fs';
import { mkdir, open, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SignedCheckpoint, sameCheckpoint } from '../../../shared/audit';

export interface CheckpointSink {
  /** Stores a checkpoint once; storing the same one again is a no-op, a different one under the same seq an error. */
  put(checkpoint: SignedCheckpoint): Promise<void>;
  /** The checkpoint with the highest seq, or null. */
  latest(): Promise<SignedCheckpoint | null>;
  get(seq: number): Promise<SignedCheckpoint | null>;
}

const NAME = /^checkpoint-([0-9]{12})\.json$/;
const fileName = (seq: number): string => `checkpoint-${String(seq).padStart(12, '0')}.json`;

/**
 * One write-once file per checkpoint in a directory (a volume mounted from
 * storage the database administrators cannot write): created with O_EXCL, read
 * only, fsynced with its directory before the checkpoint counts as written.
 */
export class DirectorySink implements CheckpointSink {
  constructor(readonly dir: string) {}

  async put(checkpoint: SignedCheckpoint): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const path = join(this.dir, fileName(checkpoint.checkpoint.seq));
    let file;
    try {
      file = await open(path, 'wx', 0o444);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const existing = await this.get(checkpoint.checkpoint.seq);
      if (existing && sameCheckpoint(existing, checkpoint)) return;
      throw new Error(`the checkpoint sink already holds a different checkpoint #${checkpoint.checkpoint.seq}`, { cause: err });
    }
    try {
      await file.writeFile(`${JSON.stringify(checkpoint)}\n`, 'utf8');
      await file.sync();
    } finally {
      await file.close();
    }
    const dir = await open(this.dir, constants.O_RDONLY);
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  async latest(): Promise<SignedCheckpoint | null> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    const seqs = names.flatMap((n) => {
      const m = NAME.exec(n);
      return m ? [Number(m[1])] : [];
    });
    return seqs.length === 0 ? null : this.get(seqs.reduce((a, b) => (b > a ? b : a)));
  }

  async get(seq: number): Promise<SignedCheckpoint | null> {
    try {
      return SignedCheckpoint.parse(JSON.parse(await readFile(join(this.dir, fileName(seq)), 'utf8')));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }
}
