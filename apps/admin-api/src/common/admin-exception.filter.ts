import {
  ArgumentsHost,
  BadRequestException,
  Catch,
  ExceptionFilter,
  HttpException,
  Logger,
} from '@nestjs/common';
import type { Response } from 'express';
import { AdminError } from './admin-error';

interface BodyParserError {
  type: string;
  status: number;
  limit?: number;
  message: string;
}

function isBodyParserError(err: unknown): err is BodyParserError {
  return typeof err === 'object' && err !== null && 'type' in err && 'status' in err;
}

function validationMessage(err: BadRequestException): string {
  const body = err.getResponse();
  if (typeof body === 'object' && body !== null && 'message' in body) {
    const { message } = body;
    if (Array.isArray(message)) return `Invalid request body: ${message.join('; ')}`;
    if (typeof message === 'string') return message;
  }
  return err.message;
}

/**
 * Every error leaves as `{message, restate_code}`, Restate's error body. Client mistakes are 4xx
 * with a message naming the problem; only a fault of ours is a 500, logged with its stack.
 */
@Catch()
export class AdminExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('admin-api');

  catch(err: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const [status, message, code] = this.describe(err);
    if (status >= 500) this.logger.error(err instanceof Error ? (err.stack ?? err.message) : err);
    res.status(status).json({ message, restate_code: code });
  }

  private describe(err: unknown): [number, string, string | null] {
    if (err instanceof AdminError) return [err.status, err.message, err.restateCode];
    if (isBodyParserError(err)) {
      switch (err.type) {
        case 'entity.parse.failed':
          return [400, `Malformed JSON in request body: ${err.message}`, null];
        case 'entity.too.large':
          return [413, `Request body exceeds the limit of ${err.limit ?? '?'} bytes`, null];
        case 'encoding.unsupported':
        case 'charset.unsupported':
          return [415, err.message, null];
        default:
          return [err.status >= 400 && err.status < 500 ? err.status : 400, err.message, null];
      }
    }
    if (err instanceof BadRequestException) return [400, validationMessage(err), null];
    if (err instanceof HttpException) {
      const status = err.getStatus();
      const message = status === 404 ? 'Not found: no such admin API route' : err.message;
      return [status, message, null];
    }
    return [500, 'Internal error; see the admin-api log', null];
  }
}
