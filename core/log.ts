import { type Logger, pino } from 'pino';

export type { Logger };

/** Paths that may hold secrets: pino replaces them before a line is written. */
const REDACT = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'apiKey',
  '*.apiKey',
  'secret',
  '*.secret',
  'legacyKey',
  '*.legacyKey',
  'credentials',
  '*.credentials',
  'taskToken',
  '*.taskToken',
];

export interface LoggerOptions {
  readonly level?: string;
  /** Defaults to stdout; tests pass a stream to read what was logged. */
  readonly destination?: NodeJS.WritableStream;
}

/** One JSON object per line; components add their keys with `logger.child({ ... })`. */
export const createLogger = (service: string, options: LoggerOptions = {}): Logger =>
  pino(
    {
      name: service,
      level: options.level ?? 'info',
      base: { service },
      redact: { paths: REDACT, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? process.stdout,
  );
