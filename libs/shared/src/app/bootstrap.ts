import 'reflect-metadata';
import { DynamicModule, INestApplication, Logger, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { HealthController } from '../health/health.controller';

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
  opts: { name: string; bindAddress: string; configure?: (app: NestExpressApplication) => void },
): Promise<INestApplication> {
  const logger = new Logger(opts.name);
  const app = await NestFactory.create<NestExpressApplication>(module, {
    bufferLogs: false,
    abortOnError: false,
  });
  opts.configure?.(app);
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  const health = app.get(HealthController, { strict: false });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.log(`${signal} received: draining`);
      health.markDraining();
    });
  }
  const { host, port } = parseBindAddress(opts.bindAddress);
  await app.listen(port, host);
  logger.log(`${opts.name} listening on http://${host}:${port}`);
  return app;
}
