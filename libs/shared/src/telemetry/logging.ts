import { ConsoleLogger, LoggerService, LogLevel as NestLogLevel } from '@nestjs/common';
import pino, { DestinationStream, Logger as Pino } from 'pino';
import type { LogConfig, LogLevel } from '../config/config.types';
import { traceIdOf } from './tracing';

/** What a line about an invocation says beside its message (JSON keys, or `key=value` text). */
export interface LogFields {
  invocationId?: string;
  subscriptionId?: string;
  topic?: string;
  partition?: number | string;
  offset?: string;
  /** The invocation's trace, when tracing is on. */
  traceId?: string;
  [field: string]: unknown;
}

/**
 * A message with fields, for `Logger` calls about an invocation: JSON lines carry the fields as
 * keys, text lines append them as `key=value`.
 */
export class LogLine {
  constructor(
    readonly msg: string,
    readonly fields: LogFields,
  ) {}

  toString(): string {
    const parts = Object.entries(this.fields)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
    return parts.length === 0 ? this.msg : `${this.msg} (${parts.join(' ')})`;
  }
}

/**
 * The fields of a line about an invocation, from its id and its handler headers (the record's
 * coordinates `kafka.topic`, `kafka.partition`, `kafka.offset`, `restate.subscription.id` and
 * `traceparent`), as the invoker stores them.
 */
export function invocationFields(
  invocationId: string,
  headers: Readonly<Record<string, string>> = {},
): LogFields {
  const fields: LogFields = { invocationId };
  if (headers['restate.subscription.id'] !== undefined) {
    fields.subscriptionId = headers['restate.subscription.id'];
  }
  if (headers['kafka.topic'] !== undefined) fields.topic = headers['kafka.topic'];
  if (headers['kafka.partition'] !== undefined)
    fields.partition = Number(headers['kafka.partition']);
  if (headers['kafka.offset'] !== undefined) fields.offset = headers['kafka.offset'];
  const traceId = traceIdOf(headers);
  if (traceId !== undefined) fields.traceId = traceId;
  return fields;
}

/** The Nest levels written at each configured level (Nest's `log` is `info`, `verbose` `trace`). */
export function nestLevels(level: LogLevel): NestLogLevel[] {
  const order: NestLogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];
  const upTo = { fatal: 0, error: 1, warn: 2, info: 3, debug: 4, trace: 5 }[level];
  return order.slice(0, upTo + 1);
}

/**
 * Keys whose values are never written, wherever they appear in a line's fields (two levels
 * deep): the same words `kafka-options.secrets.ts` masks in responses, plus tokens and keys.
 */
const SECRET_KEYS = [
  'password',
  'secret',
  'passphrase',
  'token',
  'tokens',
  'signingKey',
  'authorization',
  'sasl.password',
  'ssl.key.password',
  'ssl.keystore.password',
];
export const REDACTED_PATHS = SECRET_KEYS.flatMap((key) => {
  const k = /^[A-Za-z_$][\w$]*$/.test(key) ? key : `["${key}"]`;
  const sep = k.startsWith('[') ? '' : '.';
  return [k, `*${sep}${k}`, `*.*${sep}${k}`];
});

const PINO_LEVEL: Record<NestLogLevel, string> = {
  fatal: 'fatal',
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
  verbose: 'trace',
};

/**
 * Nest's logger over pino: one JSON object per line with `level`, `time`, `app`, `context`,
 * `msg`, and the fields of a `LogLine`. Secret keys in fields are written as `***`.
 */
export class JsonLogger implements LoggerService {
  private readonly pino: Pino;

  constructor(app: string, level: LogLevel, destination: DestinationStream = stdoutSync()) {
    this.pino = pino(
      {
        level,
        base: { app, pid: process.pid },
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
        redact: { paths: REDACTED_PATHS, censor: '***' },
      },
      destination,
    );
  }

  log(message: unknown, ...params: unknown[]): void {
    this.write('log', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('verbose', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: NestLogLevel, message: unknown, params: unknown[]): void {
    // Nest passes the context last; `error` may pass a stack before it.
    const rest = [...params];
    const context = typeof rest.at(-1) === 'string' ? (rest.pop() as string) : undefined;
    const stack = level === 'error' && typeof rest[0] === 'string' ? rest.shift() : undefined;
    const entry: Record<string, unknown> = { context };
    let msg: string;
    if (message instanceof LogLine) {
      Object.assign(entry, message.fields);
      msg = message.msg;
    } else if (message instanceof Error) {
      msg = message.message;
      entry.stack = message.stack;
    } else if (typeof message === 'object' && message !== null) {
      Object.assign(entry, message);
      msg = typeof entry.msg === 'string' ? entry.msg : '';
      delete entry.msg;
    } else {
      msg = String(message);
    }
    if (stack !== undefined) entry.stack = stack;
    this.pino[PINO_LEVEL[level] as 'info'](entry, msg);
  }
}

/** Nest's readable text lines, with a `LogLine`'s fields appended. */
export class TextLogger extends ConsoleLogger {
  protected override stringifyMessage(message: unknown, logLevel: NestLogLevel): unknown {
    return super.stringifyMessage(
      message instanceof LogLine ? message.toString() : message,
      logLevel,
    );
  }
}

function stdoutSync(): DestinationStream {
  // Synchronous: a line written just before `process.exit` is not lost.
  return pino.destination({ dest: 1, sync: true });
}

/** The logger an app gives Nest, as `log.format` and `log.level` say. */
export function createAppLogger(config: LogConfig, app: string): LoggerService {
  if (config.format === 'json') return new JsonLogger(app, config.level);
  return new TextLogger({ logLevels: nestLevels(config.level) });
}
