import { InvokeFailure, HandlerOutcome, StateChanges } from './protocol.types';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const DEFAULT_FAILURE_CODE = 500;

const noStateChanges = (): StateChanges => ({ set: new Map(), clear: [], clearAll: false });

/**
 * Turns the JSON body of a 200 answer into an outcome. Throws with a description of what is
 * malformed; the caller turns that into a retryable failure.
 */
export function parseInvocationResponse(raw: unknown): HandlerOutcome {
  if (!isObject(raw) || typeof raw.ok !== 'boolean') throw new Error("missing boolean 'ok'");
  const state = raw.state === undefined ? noStateChanges() : parseState(raw.state);
  if (raw.ok) {
    const contentType = optionalString(raw.contentType, 'contentType');
    const output = raw.output === undefined ? Buffer.alloc(0) : decodeBase64(raw.output, 'output');
    return { kind: 'success', output, ...(contentType ? { contentType } : {}), state };
  }
  const failure = parseFailureBody(raw);
  if (!failure) throw new Error("'ok' is false but 'failure' is missing or malformed");
  return failure.terminal ? { ...failure, state } : failure;
}

/** The `failure` part of a body, or undefined when there is none worth trusting. */
export function parseFailureBody(raw: unknown): Omit<InvokeFailure, 'state'> | undefined {
  if (!isObject(raw) || !isObject(raw.failure)) return undefined;
  const { terminal, message, code } = raw.failure;
  if (typeof terminal !== 'boolean' || typeof message !== 'string') return undefined;
  const validCode = Number.isInteger(code) ? (code as number) : DEFAULT_FAILURE_CODE;
  return { kind: 'failure', terminal, message, code: validCode };
}

function parseState(raw: unknown): StateChanges {
  if (!isObject(raw)) throw new Error("'state' is not an object");
  const set = new Map<string, Buffer>();
  if (raw.set !== undefined) {
    if (!isObject(raw.set)) throw new Error("'state.set' is not an object");
    for (const [k, v] of Object.entries(raw.set)) set.set(k, decodeBase64(v, `state.set.${k}`));
  }
  const clear = raw.clear ?? [];
  if (!Array.isArray(clear) || !clear.every((k) => typeof k === 'string')) {
    throw new Error("'state.clear' is not an array of strings");
  }
  const clearAll = raw.clearAll ?? false;
  if (typeof clearAll !== 'boolean') throw new Error("'state.clearAll' is not a boolean");
  return { set, clear, clearAll };
}

function decodeBase64(value: unknown, field: string): Buffer {
  if (typeof value !== 'string' || value.length % 4 !== 0 || !BASE64.test(value)) {
    throw new Error(`'${field}' is not standard base64`);
  }
  return Buffer.from(value, 'base64');
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value !== undefined && typeof value !== 'string')
    throw new Error(`'${field}' is not a string`);
  return value;
}
