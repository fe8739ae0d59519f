import { MultiBar } from 'cli-progress';
import type { Io } from '../output.js';

export interface RateBar {
  update(done: number, bytes: number): void;
  /** For a bar whose total was not known when it started. */
  setTotal(total: number): void;
}

/**
 * Bars with files/s and MB/s on stderr, only when it is a terminal. Several bars share one
 * display, so phases that run at once (hashing and uploading) each keep their own line.
 */
export function rateBars(io: Io) {
  const multi = io.interactive ? new MultiBar({ stream: process.stderr, hideCursor: true, clearOnComplete: false }) : null;
  return {
    add(label: string, total: number): RateBar {
      const started = performance.now();
      const bar = multi?.create(total, 0, { fps: '0', mbps: '0.0' }, {
        format: `${label.padEnd(9)} |{bar}| {value}/{total} files | {fps} files/s | {mbps} MB/s`,
      });
      return {
        update(done, bytes) {
          const s = Math.max(1e-3, (performance.now() - started) / 1000);
          bar?.update(done, { fps: Math.round(done / s).toString(), mbps: (bytes / 1e6 / s).toFixed(1) });
        },
        setTotal: (t) => bar?.setTotal(t),
      };
    },
    stop: () => multi?.stop(),
  };
}

/** One bar on its own. */
export function rateBar(io: Io, label: string, total: number): RateBar & { stop(): void } {
  const bars = rateBars(io);
  return { ...bars.add(label, total), stop: bars.stop };
}
