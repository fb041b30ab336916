// Progress of long seeding runs: a cli-progress bar on a terminal, a plain
// line every 10% otherwise (CI logs, pipes, the stack's tests).
import cliProgress from 'cli-progress';

export interface Progress {
  start(label: string, total: number): void;
  advance(by: number): void;
  stop(): void;
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  if (stream.isTTY) {
    let bar: cliProgress.SingleBar | undefined;
    return {
      start(label, total) {
        bar = new cliProgress.SingleBar(
          { format: `${label.padEnd(22)} [{bar}] {percentage}% | {value}/{total} | ETA {eta_formatted}`, stream, hideCursor: true, etaBuffer: 50 },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, 0);
      },
      advance: (by) => bar?.increment(by),
      stop: () => bar?.stop(),
    };
  }
  let label = '';
  let total = 0;
  let done = 0;
  let nextMark = 0;
  return {
    start(l, t) {
      label = l;
      total = t;
      done = 0;
      nextMark = 0;
      stream.write(`${label}: 0/${total}\n`);
    },
    advance(by) {
      done += by;
      const pct = total ? Math.floor((done / total) * 100) : 100;
      if (pct >= nextMark + 10 || done === total) {
        nextMark = pct - (pct % 10);
        stream.write(`${label}: ${done}/${total} (${pct}%)\n`);
      }
    },
    stop() {},
  };
}

/** For callers that want no output (tests). */
export const silentProgress: Progress = { start() {}, advance() {}, stop() {} };
