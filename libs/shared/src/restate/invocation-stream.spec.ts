// Bidirectional streaming attempts (`invokeAttempt` with `stream`) against real
// @restatedev/restate-sdk handlers served in process by `http2Handler()` (BIDI_STREAM). Jest
// fails a test during which a promise rejection goes unhandled, so the abort and timeout tests
// also check that nothing is left rejecting in the background.
import '../../../../test/support/restate-polyfill';
import {
  RunningEndpoint,
  startHttp1Endpoint,
  startHttp2Endpoint,
} from '../../../../test/support/restate-sdk-servers';
import {
  gate,
  sdkEndpoint,
  sideEffects,
  twiceRuns,
} from '../../../../test/support/restate-test-services';
import { EndpointManifest, discoverEndpoint } from './discovery';
import { MessageType, RawMessage, messageTypeName } from './framing';
import {
  InvocationAttemptError,
  InvokeAttemptRequest,
  InvokeAttemptResult,
  StreamHookAnswer,
  StreamHooks,
  invokeAttempt,
} from './invocation';
import { decodeAs, runCompletionFromProposal } from './messages';

const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');
const typeNames = (ms: RawMessage[]) => ms.map((m) => messageTypeName(m.type));
const names = (r: InvokeAttemptResult) => typeNames(r.messages);
let idSeq = 0;
const newId = () => {
  idSeq += 1;
  return { invocationId: Buffer.from(`tributary-bidi-${idSeq}`), debugId: `inv_bidi_${idSeq}` };
};

/** Polls instead of sleeping a fixed time. */
async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Answers each ctx.run proposal with its completion, as the runtime does once it stored it;
 * records what it saw and whether two calls ever overlapped. */
function answeringRuns(extra: Partial<StreamHooks> = {}) {
  const seen: { type: string; index: number }[] = [];
  let active = 0;
  let overlapped = false;
  const hooks: StreamHooks = {
    async onMessage(m, { index }): Promise<StreamHookAnswer | void> {
      active += 1;
      if (active > 1) overlapped = true;
      seen.push({ type: messageTypeName(m.type), index });
      // Slow on a RunCommand: the SDK runs the closure and writes its proposal meanwhile, so a
      // hook called before this one settled would overlap it.
      await new Promise((r) =>
        m.type === MessageType.RunCommand ? setTimeout(r, 50) : setImmediate(r),
      );
      active -= 1;
      if (m.type !== MessageType.ProposeRunCompletion) return;
      return { write: [runCompletionFromProposal(decodeAs(MessageType.ProposeRunCompletion, m))] };
    },
    ...extra,
  };
  return { hooks, seen, overlapped: () => overlapped };
}

describe('invokeAttempt in bidirectional streaming mode (HTTP/2, BIDI_STREAM endpoint)', () => {
  let ep: RunningEndpoint;
  let manifest: EndpointManifest;
  beforeAll(async () => {
    ep = await startHttp2Endpoint(sdkEndpoint().http2Handler());
    const found = await discoverEndpoint(ep.url);
    expect([found.transport, found.manifest.protocolMode]).toEqual(['http2', 'BIDI_STREAM']);
    manifest = found.manifest;
  });
  afterAll(async () => {
    await ep?.close();
  });

  const call = (
    service: string,
    handler: string,
    input: Uint8Array,
    extra: Partial<InvokeAttemptRequest> = {},
  ) =>
    invokeAttempt({
      baseUrl: ep.url,
      endpoint: manifest,
      transport: 'http2',
      service,
      handler,
      input,
      ...newId(),
      ...extra,
    });

  it('completes two sequential ctx.run calls in one attempt, each closure run once, hooks called in order', async () => {
    const before = { ...twiceRuns };
    const requestsBefore = ep.requests();
    const hook = answeringRuns();
    const ids = newId();
    const r = await call('TwoRuns', 'twice', json('order-1'), { ...ids, stream: hook.hooks });

    expect(r.mode).toBe('bidi-stream');
    expect(ep.requests() - requestsBefore).toBe(1);
    expect(names(r)).toEqual([
      'RunCommand',
      'ProposeRunCompletion',
      'RunCommand',
      'ProposeRunCompletion',
      'OutputCommand',
      'End',
    ]);
    expect(twiceRuns).toEqual({ first: before.first + 1, second: before.second + 1 });
    const a = `order-1-a${before.first + 1}`;
    const b = `${a}-b${before.second + 1}`;
    expect(r.outcome).toEqual({ kind: 'end', output: { kind: 'success', value: json({ a, b }) } });

    // Each message before End went through the hook, in order, one call at a time.
    expect(hook.seen).toEqual(
      names(r)
        .slice(0, -1)
        .map((type, index) => ({ type, index })),
    );
    expect(hook.overlapped()).toBe(false);

    // What was written in-stream, and the journal to store with it.
    expect(typeNames(r.written)).toEqual([
      'RunCompletionNotification',
      'RunCompletionNotification',
    ]);
    expect(typeNames(r.journalWithWritten)).toEqual([
      'RunCommand',
      'RunCompletionNotification',
      'RunCommand',
      'RunCompletionNotification',
      'OutputCommand',
    ]);
    expect(typeNames(r.journal)).toEqual(['RunCommand', 'RunCommand', 'OutputCommand']);
    expect(r.runProposals.map((p) => p.completionId)).toEqual([1, 2]);
    const completions = r.written.map((m) => decodeAs(MessageType.RunCompletionNotification, m));
    expect(completions.map((c) => [c.completionId, c.result.case])).toEqual([
      [1, 'value'],
      [2, 'value'],
    ]);

    // The journal is consistent: replaying it (without the output) reruns no closure.
    const replay = await call('TwoRuns', 'twice', json('order-1'), {
      ...ids,
      journal: r.journalWithWritten.slice(0, 4),
    });
    expect(names(replay)).toEqual(['OutputCommand', 'End']);
    expect(replay.output).toEqual(r.output);
    expect(twiceRuns).toEqual({ first: before.first + 1, second: before.second + 1 });
  });

  it('suspends as in request/response mode when the hook answers endInput', async () => {
    const before = sideEffects.runs;
    const seen: string[] = [];
    const r = await call('Runner', 'once', json('order-2'), {
      stream: {
        async onMessage(m) {
          seen.push(messageTypeName(m.type));
          if (m.type === MessageType.ProposeRunCompletion) return { endInput: true };
        },
      },
    });
    expect(r.mode).toBe('bidi-stream');
    expect(names(r)).toEqual(['RunCommand', 'ProposeRunCompletion', 'Suspension']);
    expect(seen).toEqual(['RunCommand', 'ProposeRunCompletion']);
    expect(r.outcome).toEqual({
      kind: 'suspended',
      waitingCompletions: [1],
      waitingSignals: [1],
      waitingNamedSignals: [],
    });
    expect(r.written).toEqual([]);
    expect(typeNames(r.journalWithWritten)).toEqual(['RunCommand']);
    expect(sideEffects.runs).toBe(before + 1);
  });

  it('writes the completion and ends the input in one answer: the SDK goes on past the run', async () => {
    const before = { ...twiceRuns };
    const r = await call('TwoRuns', 'twice', json('order-3'), {
      stream: {
        async onMessage(m) {
          if (m.type !== MessageType.ProposeRunCompletion) return;
          const p = decodeAs(MessageType.ProposeRunCompletion, m);
          return { write: [runCompletionFromProposal(p)], endInput: p.resultCompletionId === 1 };
        },
      },
    });
    // The first completion arrived before the input closed; the second run then suspends.
    expect(names(r)).toEqual([
      'RunCommand',
      'ProposeRunCompletion',
      'RunCommand',
      'ProposeRunCompletion',
      'Suspension',
    ]);
    expect(r.outcome).toMatchObject({ kind: 'suspended', waitingCompletions: [2] });
    expect(typeNames(r.journalWithWritten)).toEqual([
      'RunCommand',
      'RunCompletionNotification',
      'RunCommand',
    ]);
    expect(twiceRuns).toEqual({ first: before.first + 1, second: before.second + 1 });
  });

  it('ends the input after the inactivity timeout: a ctx.sleep then suspends', async () => {
    const seen: string[] = [];
    const r = await call('Sleeper', 'nap', new Uint8Array(), {
      stream: {
        inactivityTimeoutMs: 200,
        async onMessage(m) {
          seen.push(messageTypeName(m.type));
        },
      },
    });
    expect(seen).toEqual(['SleepCommand']);
    expect(names(r)).toEqual(['SleepCommand', 'Suspension']);
    expect(r.outcome).toMatchObject({ kind: 'suspended', waitingCompletions: [1] });
  });

  it('rejects with the hook’s own error when a hook throws, and closes the stream', async () => {
    const failure = new Error('the journal store is down');
    const err = await call('TwoRuns', 'twice', json('order-4'), {
      stream: {
        async onMessage(m) {
          if (m.type === MessageType.ProposeRunCompletion) throw failure;
        },
      },
    }).catch((e: unknown) => e);
    expect(err).toBe(failure);
    await until(() => ep.openStreams() === 0);
  });

  it('ends cleanly on an abort mid-stream: no hook after it, the SDK sees the connection close', async () => {
    gate.reset();
    const ac = new AbortController();
    const seen: string[] = [];
    const pending = call('Hanging', 'wait', new Uint8Array(), {
      signal: ac.signal,
      stream: {
        async onMessage(m) {
          seen.push(messageTypeName(m.type));
        },
      },
    }).catch((e: unknown) => e);
    await until(() => gate.entered === 1);
    ac.abort(new Error('shutting down'));
    const err = (await pending) as InvocationAttemptError;
    expect(err).toBeInstanceOf(InvocationAttemptError);
    expect(err.kind).toBe('aborted');
    await until(() => gate.closed === 1);
    await until(() => ep.openStreams() === 0);
    expect(seen).toEqual([]);
    gate.release();
  });

  it('ends cleanly on an abort from inside a hook: its write is dropped, nothing more runs', async () => {
    const before = { ...twiceRuns };
    const ac = new AbortController();
    const seen: string[] = [];
    const err = (await call('TwoRuns', 'twice', json('order-5'), {
      signal: ac.signal,
      stream: {
        async onMessage(m) {
          seen.push(messageTypeName(m.type));
          if (m.type !== MessageType.ProposeRunCompletion) return;
          ac.abort(new Error('claim lost'));
          return {
            write: [runCompletionFromProposal(decodeAs(MessageType.ProposeRunCompletion, m))],
          };
        },
      },
    }).catch((e: unknown) => e)) as InvocationAttemptError;
    expect(err).toBeInstanceOf(InvocationAttemptError);
    expect(err.kind).toBe('aborted');
    expect(seen).toEqual(['RunCommand', 'ProposeRunCompletion']);
    await until(() => ep.openStreams() === 0);
    expect(twiceRuns).toEqual({ first: before.first + 1, second: before.second });
  });

  it('times out mid-stream, aborting the signal of the hook in flight and settling after it', async () => {
    const before = sideEffects.runs;
    let hookSawAbort = false;
    let hookDone = false;
    const err = (await call('Runner', 'once', json('order-6'), {
      timeoutMs: 300,
      stream: {
        async onMessage(m, { signal }) {
          if (m.type !== MessageType.ProposeRunCompletion) return;
          // A store that never answers, until the attempt gives up.
          await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
          hookSawAbort = signal.aborted;
          // Still busy a little after the abort: the attempt must wait for it.
          await new Promise((r) => setImmediate(r));
          hookDone = true;
          return {
            write: [runCompletionFromProposal(decodeAs(MessageType.ProposeRunCompletion, m))],
          };
        },
      },
    }).catch((e: unknown) => e)) as InvocationAttemptError;
    expect(err).toBeInstanceOf(InvocationAttemptError);
    expect(err.kind).toBe('timeout');
    expect([hookSawAbort, hookDone]).toEqual([true, true]);
    expect(sideEffects.runs).toBe(before + 1);
    await until(() => ep.openStreams() === 0);
  });

  it('reports the timeout, not the error of a hook that gave up because of it', async () => {
    const err = (await call('Runner', 'once', json('order-9'), {
      timeoutMs: 300,
      stream: {
        async onMessage(m, { signal }) {
          if (m.type !== MessageType.ProposeRunCompletion) return;
          await new Promise<void>((_resolve, reject) =>
            signal.addEventListener('abort', () => reject(new Error('store call cancelled'))),
          );
        },
      },
    }).catch((e: unknown) => e)) as InvocationAttemptError;
    expect(err).toBeInstanceOf(InvocationAttemptError);
    expect(err.kind).toBe('timeout');
    await until(() => ep.openStreams() === 0);
  });

  it('times out a handler that never answers, with the stream open', async () => {
    gate.reset();
    const err = (await call('Hanging', 'wait', new Uint8Array(), {
      timeoutMs: 300,
      stream: { onMessage: async () => undefined },
    }).catch((e: unknown) => e)) as InvocationAttemptError;
    expect(err.kind).toBe('timeout');
    await until(() => gate.closed === 1);
    await until(() => ep.openStreams() === 0);
    gate.release();
  });

  it('falls back to request/response against an endpoint whose manifest says REQUEST_RESPONSE', async () => {
    let calls = 0;
    const r = await call('Runner', 'once', json('order-7'), {
      endpoint: { ...manifest, protocolMode: 'REQUEST_RESPONSE' },
      stream: {
        async onMessage() {
          calls += 1;
        },
      },
    });
    expect(r.mode).toBe('request-response');
    expect(calls).toBe(0);
    expect(names(r)).toEqual(['RunCommand', 'ProposeRunCompletion', 'Suspension']);
  });
});

describe('invokeAttempt with `stream` over HTTP/1.1', () => {
  let ep: RunningEndpoint;
  afterAll(async () => {
    await ep?.close();
  });

  it('falls back to request/response: the hook is not called, a ctx.run suspends', async () => {
    ep = await startHttp1Endpoint(sdkEndpoint().http1Handler());
    const found = await discoverEndpoint(ep.url);
    let calls = 0;
    const r = await invokeAttempt({
      baseUrl: ep.url,
      endpoint: found.manifest,
      transport: 'http1',
      service: 'Runner',
      handler: 'once',
      input: json('order-8'),
      ...newId(),
      stream: {
        async onMessage() {
          calls += 1;
        },
      },
    });
    expect(r.mode).toBe('request-response');
    expect(calls).toBe(0);
    expect(names(r)).toEqual(['RunCommand', 'ProposeRunCompletion', 'Suspension']);
    expect(r.written).toEqual([]);
    expect(r.journalWithWritten).toEqual(r.journal);
    expect(
      text(
        r.runProposals[0].result.kind === 'success'
          ? r.runProposals[0].result.value
          : new Uint8Array(),
      ),
    ).toMatch(/^"order-8#/);
  });
});
