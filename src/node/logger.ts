import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { LogLevel } from './config.ts';

export type { Logger };

/**
 * Structured JSON logs, one object per line; human-friendly when stdout is a
 * terminal. Every line carries the node id.
 */
export function createLogger(options: { nodeId: string; level: LogLevel; pretty?: boolean }): Logger {
  const base = { node: options.nodeId };
  const usePretty = options.pretty ?? process.stdout.isTTY === true;
  if (usePretty) {
    return pino({ level: options.level, base }, pretty({ colorize: true, sync: true }));
  }
  return pino({ level: options.level, base, timestamp: pino.stdTimeFunctions.isoTime });
}
