import type { SealResult } from '@chronicle/audit';
import type { Logger } from 'pino';

export interface Sealer {
  /** Stops the timer and seals one last time, so a clean shutdown leaves the log sealed to its end. */
  stop(): Promise<void>;
}

/**
 * Seals the log every `intervalMs` (nothing is written when nothing changed). A seal that fails
 * is logged and retried at the next tick: sealing must never take the server down.
 */
export function startSealing(opts: { seal: () => Promise<SealResult | null>; intervalMs: number; logger: Logger }): Sealer {
  const { logger } = opts;
  let running: Promise<void> = Promise.resolve();
  const sealOnce = () => {
    running = running.then(async () => {
      try {
        const sealed = await opts.seal();
        if (sealed) logger.info({ position: sealed.seal.position, streams: sealed.seal.streams, sealPosition: sealed.sealPosition }, 'sealed the event log');
      } catch (e) {
        logger.error({ err: e }, 'sealing the event log failed; retrying at the next interval');
      }
    });
    return running;
  };
  const timer = opts.intervalMs > 0 ? setInterval(sealOnce, opts.intervalMs) : null;
  timer?.unref();
  return {
    async stop() {
      if (timer) clearInterval(timer);
      await sealOnce();
    },
  };
}
