import { Request } from './context.types';
import { HandlerContext } from './handler.context';
import { HandlerSpec } from './service.definitions';
import { StateTracker } from './state.tracker';
import { TerminalError, isTerminalError } from './terminal.error';
import { InvocationRequest, InvocationResponse } from './protocol';

const RETRYABLE_CODE = 500;

/** Runs one handler for one request; every outcome, thrown or not, becomes a response body. */
export async function runInvocation(
  spec: HandlerSpec,
  wire: InvocationRequest,
): Promise<InvocationResponse> {
  const state = new StateTracker(decodeMap(wire.state ?? {}));
  const ctx = new HandlerContext(toRequest(wire), wire.key, state, spec.access, target(spec));
  try {
    const input = decodeInput(spec, ctx.request().body);
    const output = spec.output.serialize(await spec.fn(ctx, input));
    return {
      ok: true,
      output: toBase64(output),
      ...(spec.output.contentType ? { contentType: spec.output.contentType } : {}),
      ...stateOf(spec, state),
    };
  } catch (err) {
    return failureOf(err, spec, state);
  }
}

function decodeInput(spec: HandlerSpec, body: Uint8Array): unknown {
  try {
    return spec.input.deserialize(body);
  } catch (err) {
    // A payload that does not decode now never will: fail for good instead of retrying forever.
    const as = spec.input.contentType === 'application/json' ? ' as JSON' : '';
    throw new TerminalError(`Cannot deserialize the input${as}: ${messageOf(err)}`, {
      errorCode: 400,
    });
  }
}

function failureOf(err: unknown, spec: HandlerSpec, state: StateTracker): InvocationResponse {
  if (isTerminalError(err)) {
    // Terminal failures complete the invocation, so their state changes are kept.
    const failure = { terminal: true, message: err.message, code: err.code };
    return { ok: false, failure, ...stateOf(spec, state) };
  }
  const message = err instanceof Error ? describe(err) : String(err);
  return { ok: false, failure: { terminal: false, message, code: RETRYABLE_CODE } };
}

function stateOf(spec: HandlerSpec, state: StateTracker): Pick<InvocationResponse, 'state'> {
  return spec.access === 'write' && state.hasChanges() ? { state: state.changes() } : {};
}

function toRequest(wire: InvocationRequest): Request {
  return {
    id: wire.invocationId,
    headers: new Map(Object.entries(wire.headers)),
    rawHeaders: decodeMap(wire.rawHeaders),
    body: Buffer.from(wire.body, 'base64'),
    attemptNumber: wire.attempt,
  };
}

function decodeMap(encoded: Record<string, string>): Map<string, Uint8Array> {
  return new Map(Object.entries(encoded).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
}

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function target(spec: HandlerSpec): string {
  return `${spec.service}/${spec.name}`;
}

function describe(err: Error): string {
  return err.name && err.name !== 'Error' ? `${err.name}: ${err.message}` : err.message;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
