import { InvocationRequest, JSON_CONTENT_TYPE } from '@tributary/shared';
import type { ClaimedInvocation, StateChangeSet } from './invocation.store';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The handler protocol's request for one attempt, with the key's state for keyed services.
 * `traceHeaders` (tracing on) carry the handler call's W3C context, replacing the stored ones.
 */
export function invocationRequest(
  c: ClaimedInvocation,
  attempt: number,
  contentType: string | null,
  state: Map<string, Buffer> | undefined,
  traceHeaders?: Record<string, string>,
): InvocationRequest {
  const request: InvocationRequest = {
    invocationId: c.id,
    service: c.service,
    handler: c.handler,
    key: c.key,
    attempt,
    // With tracing on, `traceparent`/`tracestate` are the handler call span's.
    headers: traceHeaders ? { ...c.headers, ...traceHeaders } : c.headers,
    rawHeaders: c.rawHeaders ?? {},
    body: (c.input ?? Buffer.alloc(0)).toString('base64'),
  };
  if (contentType) request.contentType = contentType;
  if (c.serviceTy !== 'SERVICE') {
    request.state = Object.fromEntries(
      [...(state ?? new Map<string, Buffer>())].map(([k, v]) => [k, v.toString('base64')]),
    );
  }
  return request;
}

/** JSON handlers get JSON: a payload that is not fails terminally, before any call. */
export function checkJsonInput(
  contentType: string | null,
  input: Buffer | null,
): string | undefined {
  if (!contentType?.startsWith(JSON_CONTENT_TYPE) || !input || input.length === 0) return undefined;
  try {
    JSON.parse(strictUtf8.decode(input));
    return undefined;
  } catch (err) {
    return `Cannot deserialize the input as JSON: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** A key's state after an invocation's changes, as the store writes them: for a successor. */
export function withChanges(
  before: Map<string, Buffer> | undefined,
  changes: StateChangeSet | undefined,
): Map<string, Buffer> {
  const after = new Map(changes?.clearAll ? [] : before);
  for (const name of changes?.clear ?? []) after.delete(name);
  for (const [name, value] of changes?.set ?? []) after.set(name, value);
  return after;
}
