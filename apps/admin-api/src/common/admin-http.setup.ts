import { ValidationPipe } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { raw, type NextFunction, type Request, type Response } from 'express';
import { findConsoleDir, serveConsole } from '../console/console-static';
import { AdminExceptionFilter } from './admin-exception.filter';
import { requireBearerToken } from './auth';

/** Largest value an awakeable is resolved with through the admin API. */
export const AWAKEABLE_PAYLOAD_BYTES = 4 * 1024 * 1024;

/** Restate's CLI and SDK clients call versioned paths such as `/v4/subscriptions`. */
const VERSION_PREFIX = /^\/v[234](?=\/|\?|$)/;

export function stripApiVersion(req: Request, _res: Response, next: NextFunction): void {
  req.url = req.url.replace(VERSION_PREFIX, '') || '/';
  next();
}

/**
 * HTTP concerns of the admin API, shared by main.ts and the tests. With `tokens`, every request
 * but `GET /health` and the console's own files (`/ui`, docs/console.md) needs one of them as a
 * bearer token (checked before the body is read).
 */
export function configureAdminHttp(
  app: NestExpressApplication,
  maxBodyBytes: number,
  tokens: readonly string[] = [],
  consoleDir: string | null = findConsoleDir(),
): void {
  app.use(serveConsole(consoleDir));
  app.use(stripApiVersion);
  if (tokens.length > 0) app.use(requireBearerToken(tokens));
  // An awakeable's value is any bytes (a JSON scalar included): read as sent, not parsed.
  app.use('/restate/awakeables', raw({ type: () => true, limit: AWAKEABLE_PAYLOAD_BYTES }));
  app.useBodyParser('json', { limit: maxBodyBytes });
  app.useGlobalFilters(new AdminExceptionFilter());
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      stopAtFirstError: false,
    }),
  );
}
