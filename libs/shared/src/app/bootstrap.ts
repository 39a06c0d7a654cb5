import 'reflect-metadata';
import { DynamicModule, INestApplication, Logger, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { TributaryConfig } from '../config/config.types';
import { HealthController } from '../health/health.controller';
import { createAppLogger } from '../telemetry/logging';
import { startTracing, tracing } from '../telemetry/tracing';

/** Past this after SIGTERM, a process exits with code 1 (deploy/kubernetes sizes its grace period on it). */
export const SHUTDOWN_TIMEOUT_MS = 45_000;

export function parseBindAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(address.slice(i + 1)) };
}

/**
 * Starts an app: builds the module (which connects, migrates and creates bus topics), listens,
 * and on SIGTERM/SIGINT fails readiness, stops taking work (each module's shutdown hook hands back
 * or finishes what it holds) and exits.
 */
export async function bootstrapApp(
  module: Type<unknown> | DynamicModule,
  opts: {
    name: string;
    bindAddress: string;
    configure?: (app: NestExpressApplication) => void;
    /** Its `log` and `tracing` settings: the logger Nest uses, and traces when turned on. */
    config?: Pick<TributaryConfig, 'log' | 'tracing'>;
  },
): Promise<INestApplication> {
  const logger = new Logger(opts.name);
  const traced = opts.config ? startTracing(opts.config.tracing, opts.name, process.env) : false;
  const app = await NestFactory.create<NestExpressApplication>(module, {
    bufferLogs: false,
    abortOnError: false,
    ...(opts.config && { logger: createAppLogger(opts.config.log, opts.name) }),
  });
  opts.configure?.(app);
  const health = app.get(HealthController, { strict: false });
  let closing = 0;
  const shutdown = (signal: NodeJS.Signals): void => {
    // A second signal forces the exit, unless it is the same keypress reaching the whole group.
    if (closing > 0 && Date.now() - closing > 2_000) {
      logger.warn(`${signal} received again: exiting now`);
      process.exit(1);
    }
    if (closing > 0) return;
    closing = Date.now();
    logger.log(`${signal} received: draining`);
    health.markDraining();
    const deadline = setTimeout(() => {
      logger.error(`shutdown took longer than ${SHUTDOWN_TIMEOUT_MS / 1000}s: exiting`);
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    deadline.unref();
    // app.close() runs every module's shutdown hook: consumers finish or hand back their work.
    // Then the spans still buffered are exported.
    app
      .close()
      .then(() => tracing.shutdown())
      .then(
        () => {
          logger.log('stopped cleanly');
          process.exit(0);
        },
        (err: unknown) => {
          logger.error(`shutdown failed: ${String(err)}`);
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  const { host, port } = parseBindAddress(opts.bindAddress);
  await app.listen(port, host);
  logger.log(`${opts.name} listening on http://${host}:${port}${traced ? ', tracing on' : ''}`);
  return app;
}
