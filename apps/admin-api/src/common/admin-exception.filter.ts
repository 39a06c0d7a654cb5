import {
  ArgumentsHost,
  BadRequestException,
  Catch,
  ExceptionFilter,
  HttpException,
  Logger,
  NotFoundException,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { QueryFailedError } from 'typeorm';
import { allowedMethods } from '../meta/route-table';
import { AdminError } from './admin-error';

/** An error of body-parser (http-errors): a status, and a `type` for the ones it names. */
interface BodyParserError {
  type?: string;
  status: number;
  expose?: boolean;
  limit?: number;
  message: string;
}

interface Answer {
  status: number;
  message: string;
  code: string | null;
  /** Methods for the `Allow` header of a 405. */
  allow?: string[];
}

// Postgres refuses a NUL character in text (22021) and the escape \u0000 in jsonb (22P05).
const NUL_REFUSED = new Set(['22021', '22P05']);

const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

function isBodyParserError(err: unknown): err is BodyParserError {
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as { status?: unknown }).status === 'number' &&
    ('type' in err || 'expose' in err)
  );
}

function validationMessages(err: BadRequestException): string[] | string {
  const body = err.getResponse();
  if (typeof body === 'object' && body !== null && 'message' in body) {
    const { message } = body;
    if (Array.isArray(message)) return message.map(String);
    if (typeof message === 'string') return message;
  }
  return err.message;
}

/** Whether the request carries body bytes (what body-parser checks before reading). */
function hasBody(req: Request): boolean {
  return (
    req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length']) > 0
  );
}

function isJsonRequest(req: Request): boolean {
  return Boolean(req.is('application/json'));
}

function postgresCode(err: { driverError?: unknown }): unknown {
  const driverError = err.driverError;
  return typeof driverError === 'object' && driverError !== null
    ? (driverError as { code?: unknown }).code
    : undefined;
}

/**
 * Every error leaves as `{message, restate_code}`, Restate's error body. Client mistakes are 4xx
 * with a message naming the problem; only a fault of ours is a 500, logged with its stack.
 */
@Catch()
export class AdminExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('admin-api');

  catch(err: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const { status, message, code, allow } = this.describe(err, req);
    if (status >= 500) this.logger.error(err instanceof Error ? (err.stack ?? err.message) : err);
    if (allow) res.setHeader('Allow', allow.join(', '));
    res.status(status).json({ message, restate_code: code });
  }

  private describe(err: unknown, req: Request): Answer {
    if (err instanceof AdminError) {
      return { status: err.status, message: err.message, code: err.restateCode };
    }
    if (isBodyParserError(err)) return bodyParserAnswer(err, req);
    if (err instanceof BadRequestException) return badRequestAnswer(err, req);
    if (err instanceof NotFoundException) return noRouteAnswer(req);
    if (err instanceof HttpException) {
      return { status: err.getStatus(), message: err.message, code: null };
    }
    if (err instanceof QueryFailedError && NUL_REFUSED.has(postgresCode(err) as string)) {
      // Only a request can bring a NUL here: the admin API writes nothing else to Postgres.
      return {
        status: 400,
        message:
          'The request holds a NUL character (\\u0000), which names, filters and options cannot contain; remove it',
        code: null,
      };
    }
    return { status: 500, message: 'Internal error; see the admin-api log', code: null };
  }
}

function bodyParserAnswer(err: BodyParserError, req: Request): Answer {
  switch (err.type ?? '') {
    case 'entity.parse.failed':
      return { status: 400, message: `Malformed JSON in request body: ${err.message}`, code: null };
    case 'entity.too.large':
      return {
        status: 413,
        message: `Request body exceeds the limit of ${err.limit ?? '?'} bytes (admin.max-body-bytes)`,
        code: null,
      };
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return {
        status: 415,
        message: `${err.message}: send the request body as UTF-8 JSON, uncompressed or gzip, deflate or br`,
        code: null,
      };
    default: {
      const encoding = req.headers['content-encoding'];
      const reason = encoding
        ? `it is not valid '${encoding}' (content-encoding)`
        : err.message || 'it could not be read';
      return {
        status: err.status >= 400 && err.status < 500 ? err.status : 400,
        message: `Cannot read the request body: ${reason}`,
        code: null,
      };
    }
  }
}

/**
 * Nest turns body-parser's SyntaxError (malformed JSON) and the router's URIError (a path with
 * bad percent-encoding) into a BadRequestException of their message before filters see them;
 * validation failures come as a list of messages. The request tells which it was.
 */
function badRequestAnswer(err: BadRequestException, req: Request): Answer {
  const messages = validationMessages(err);
  const bodyExpected = METHODS_WITH_BODY.has(req.method);
  if (typeof messages === 'string') {
    if (req.body === undefined && hasBody(req) && isJsonRequest(req)) {
      return { status: 400, message: `Malformed JSON in request body: ${messages}`, code: null };
    }
    if (messages.startsWith('Failed to decode param')) {
      return {
        status: 400,
        message: `Malformed percent-encoding in the request path: ${messages}`,
        code: null,
      };
    }
    return { status: 400, message: messages, code: null };
  }
  const listed = messages.join('; ');
  if (bodyExpected && hasBody(req) && !isJsonRequest(req)) {
    const type = req.headers['content-type'];
    return {
      status: 415,
      message: `Unsupported content type ${type ? `'${type}'` : '(none given)'}: send the request body as JSON, with content-type application/json`,
      code: null,
    };
  }
  if (bodyExpected && !hasBody(req)) {
    return {
      status: 400,
      message: `Missing request body: expected a JSON object (${listed})`,
      code: null,
    };
  }
  if (bodyExpected && (Array.isArray(req.body) || typeof req.body !== 'object')) {
    return {
      status: 400,
      message: `Invalid request body: expected a JSON object, got ${Array.isArray(req.body) ? 'an array' : typeof req.body}`,
      code: null,
    };
  }
  // Only the query of GET /subscriptions is validated outside a body.
  const what = bodyExpected ? 'request body' : 'query parameters';
  return { status: 400, message: `Invalid ${what}: ${listed}`, code: null };
}

/** 405 with `Allow` when the path is a route that answers other methods, else 404. */
function noRouteAnswer(req: Request): Answer {
  const allow = allowedMethods(req.path);
  const path = req.originalUrl.split('?')[0];
  if (allow) {
    return {
      status: 405,
      message: `Method ${req.method} is not allowed on ${path}; it answers ${allow.join(', ')}`,
      code: null,
      allow,
    };
  }
  return {
    status: 404,
    message: `Not found: no admin API route ${req.method} ${path}; GET /openapi.json lists the routes`,
    code: null,
  };
}
