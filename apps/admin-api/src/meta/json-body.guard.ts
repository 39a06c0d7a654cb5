import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { AdminError } from '../common/admin-error';

/** No admin API body nests deeper than 3; this leaves room and keeps recursion cheap. */
export const MAX_BODY_DEPTH = 32;

/**
 * Checks a JSON body before the ValidationPipe sees it, for what the pipe handles badly:
 * - a `__proto__` key, at any depth: class-transformer drops it silently, so it would never be
 *   reported as an unknown field, and the client meant something that will not happen;
 * - nesting deeper than MAX_BODY_DEPTH: the pipe walks the body recursively and overflows the
 *   stack (a 500) on a few hundred kilobytes of `[[[[...]]]]`.
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
    for (const key of Object.keys(value)) {
      const at = path === '' ? key : `${path}.${key}`;
      if (key === '__proto__') return `property ${at} should not exist`;
      pending.push([(value as Record<string, unknown>)[key], at, depth + 1]);
    }
  }
  return undefined;
}
