import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { AdminError } from '../common/admin-error';
import { MAX_KAFKA_KEYS } from '../kafka-clusters/kafka-value.limits';

/** No admin API body nests deeper than 3; this leaves room and keeps recursion cheap. */
export const MAX_BODY_DEPTH = 32;

/**
 * Most keys (or elements) one object (or array) of a body may have. The largest maps a body
 * holds are Kafka options and cluster properties, MAX_KAFKA_KEYS at most.
 */
export const MAX_OBJECT_KEYS = MAX_KAFKA_KEYS;

/**
 * Checks a JSON body before the ValidationPipe sees it, for what the pipe handles badly:
 * - a `__proto__` key, at any depth: class-transformer drops it silently, so it would never be
 *   reported as an unknown field, and the client meant something that will not happen;
 * - nesting deeper than MAX_BODY_DEPTH: the pipe walks the body recursively and overflows the
 *   stack (a 500) on a few hundred kilobytes of `[[[[...]]]]`;
 * - an object with more than MAX_OBJECT_KEYS keys (or an array with more elements): the pipe's
 *   class-transformer copies an object in time that grows faster than its key count (40,000
 *   option keys held the event loop, every other request included, for most of a second), and
 *   no admin API body needs that many.
 */
@Injectable()
export class JsonBodyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const problem = bodyProblem(context.switchToHttp().getRequest<Request>().body);
    if (problem !== undefined) throw AdminError.badRequest(`Invalid request body: ${problem}`);
    return true;
  }
}

/** Walks the body iteratively, so that its depth cannot overflow this stack either. */
function bodyProblem(body: unknown): string | undefined {
  const pending: [unknown, string, number][] = [[body, '', 0]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [value, path, depth] = next;
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= MAX_BODY_DEPTH) return `nested deeper than ${MAX_BODY_DEPTH} levels`;
    const keys = Object.keys(value);
    if (keys.length > MAX_OBJECT_KEYS) {
      const what = Array.isArray(value) ? 'elements' : 'keys';
      return `${path === '' ? 'the body' : path} has ${keys.length} ${what}, at most ${MAX_OBJECT_KEYS} are accepted (librdkafka itself has about 250 properties)`;
    }
    for (const key of keys) {
      const at = path === '' ? key : `${path}.${key}`;
      if (key === '__proto__') return `property ${at} should not exist`;
      pending.push([(value as Record<string, unknown>)[key], at, depth + 1]);
    }
  }
  return undefined;
}
