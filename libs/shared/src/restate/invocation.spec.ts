// One-attempt invocations of real @restatedev/restate-sdk handlers, in process, in
// request/response style over HTTP/2 (against both endpoint modes) and HTTP/1.1.
import '../../../../test/support/restate-polyfill';
import { ServerResponse } from 'node:http';
import {
  RunningEndpoint,
  startHttp1Endpoint,
  startHttp2Endpoint,
} from '../../../../test/support/restate-sdk-servers';
import { gate, sdkEndpoint, sideEffects } from '../../../../test/support/restate-test-services';
import { EndpointManifest, discoverEndpoint } from './discovery';
import { MessageType, encodeFrame, messageTypeName } from './framing';
import { RestateTransport } from './http-exchange';
import {
  InvocationAttemptError,
  InvokeAttemptRequest,
  InvokeAttemptResult,
  encodeRequestMessages,
  invokeAttempt,
  negotiateProtocolVersion,
} from './invocation';
import { buildMessage, decodeAs, frame, runCompletionFromProposal } from './messages';

const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');
const names = (r: InvokeAttemptResult) => r.messages.map((m) => messageTypeName(m.type));
let idSeq = 0;
const newId = () => {
  idSeq += 1;
  return { invocationId: Buffer.from(`tributary-test-${idSeq}`), debugId: `inv_test_${idSeq}` };
};

/** Polls instead of sleeping a fixed time. */
async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const setups: [string, RestateTransport, () => Promise<RunningEndpoint>][] = [
  ['HTTP/2, BIDI_STREAM endpoint', 'http2', () => startHttp2Endpoint(sdkEndpoint().http2Handler())],
  [
    'HTTP/2, REQUEST_RESPONSE endpoint',
    'http2',
    () => startHttp2Endpoint(sdkEndpoint().http2Handler({ bidirectional: false })),
  ],
  [
    'HTTP/1.1, http1Handler endpoint',
    'http1',
    () => startHttp1Endpoint(sdkEndpoint().http1Handler()),
  ],
];

describe.each(setups)('invokeAttempt over %s', (_label, transport, start) => {
  let ep: RunningEndpoint;
  let manifest: EndpointManifest;
  beforeAll(async () => {
    ep = await start();
    const found = await discoverEndpoint(ep.url);
    expect(found.transport).toBe(transport);
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
      transport,
      service,
      handler,
      input,
      ...newId(),
      ...extra,
    });

  it('returns a service handler JSON output and ends', async () => {
    const r = await call('Greeter', 'greet', json('Ada'));
    expect(r.protocolVersion).toBe(6);
    expect(r.transport).toBe(transport);
    expect(r.server).toMatch(/restate-sdk-typescript/);
    expect(names(r)).toEqual(['OutputCommand', 'End']);
    expect(r.outcome).toEqual({ kind: 'end', output: r.output });
    expect(r.output?.kind).toBe('success');
    expect(JSON.parse(text((r.output as { value: Uint8Array }).value))).toEqual({
      greeting: 'Hello, Ada!',
    });
    expect(r.journal.map((m) => m.type)).toEqual([MessageType.OutputCommand]);
    expect(r.stateCommands).toEqual([]);
  });

  it('speaks V5 when the endpoint offers no more', async () => {
    const r = await call('Greeter', 'greet', json('V5'), {
      endpoint: { minProtocolVersion: 5, maxProtocolVersion: 5 },
    });
    expect(r.protocolVersion).toBe(5);
    expect(r.outcome.kind).toBe('end');
  });

  it('serves a virtual object state from the eager state map and reports set/clear in order', async () => {
    const r = await call('Counter', 'add', json(5), {
      key: 'counter-1',
      state: [
        ['count', json(10)],
        ['last-error', json('boom')],
      ],
    });
    expect(names(r)).toEqual([
      'GetEagerStateCommand',
      'SetStateCommand',
      'ClearStateCommand',
      'OutputCommand',
      'End',
    ]);
    const get = decodeAs(MessageType.GetEagerStateCommand, r.journal[0]);
    expect(text(get.key)).toBe('count');
    expect(get.result.case).toBe('value');
    expect(
      r.stateCommands.map((c) => (c.op === 'clearAll' ? [c.op] : [c.op, text(c.key)])),
    ).toEqual([
      ['set', 'count'],
      ['clear', 'last-error'],
    ]);
    expect(r.stateCommands[0]).toMatchObject({ op: 'set', value: json(15) });
    expect(text((r.output as { value: Uint8Array }).value)).toBe('15');
  });

  it('treats a key missing from the eager state as absent (partial_state = false)', async () => {
    const r = await call('Counter', 'add', json(2), { key: 'counter-2', state: [] });
    const get = decodeAs(MessageType.GetEagerStateCommand, r.journal[0]);
    expect(get.result.case).toBe('void');
    expect(text((r.output as { value: Uint8Array }).value)).toBe('2');
    expect(r.stateCommands[0]).toMatchObject({ op: 'set', value: json(2) });
  });

  it('reports clearAll', async () => {
    const r = await call('Counter', 'reset', new Uint8Array(), {
      key: 'counter-3',
      state: [['count', json(1)]],
    });
    expect(r.stateCommands).toEqual([{ op: 'clearAll' }]);
    expect(r.outcome.kind).toBe('end');
  });

  it('returns a TerminalError as a terminal failure output, then End', async () => {
    const r = await call('Failing', 'terminal', new Uint8Array());
    expect(names(r)).toEqual(['OutputCommand', 'End']);
    expect(r.outcome).toEqual({
      kind: 'end',
      output: { kind: 'failure', code: 404, message: 'order 42 is unknown', metadata: {} },
    });
  });

  it('returns a thrown Error as a retryable Error message, with no output', async () => {
    const r = await call('Failing', 'boom', new Uint8Array());
    expect(names(r)).toEqual(['Error']);
    expect(r.output).toBeUndefined();
    expect(r.outcome).toMatchObject({ kind: 'error', code: 500, message: 'database is down' });
    expect(r.outcome.kind === 'error' && r.outcome.stacktrace).toMatch(/database is down/);
  });

  it('suspends on ctx.run after proposing its result, and a replay with the completion ends without re-running it', async () => {
    const before = sideEffects.runs;
    const ids = newId();
    const first = await call('Runner', 'once', json('order-7'), ids);
    expect(sideEffects.runs).toBe(before + 1);
    expect(names(first)).toEqual(['RunCommand', 'ProposeRunCompletion', 'Suspension']);
    expect(first.journal.map((m) => m.type)).toEqual([MessageType.RunCommand]);
    const run = decodeAs(MessageType.RunCommand, first.journal[0]);
    expect(run.name).toBe('stamp');
    expect(first.runProposals).toHaveLength(1);
    const proposal = first.runProposals[0];
    expect(proposal.completionId).toBe(run.resultCompletionId);
    expect(proposal.result).toEqual({
      kind: 'success',
      value: json(`order-7#${before + 1}`),
    });
    expect(first.outcome).toMatchObject({ kind: 'suspended' });
    expect(first.outcome.kind === 'suspended' && first.outcome.waitingCompletions).toEqual([
      run.resultCompletionId,
    ]);

    // What the runtime would store: the RunCommand, then the completion of the proposal.
    const second = await call('Runner', 'once', json('order-7'), {
      ...ids,
      journal: [...first.journal, runCompletionFromProposal(proposal.message)],
      retryCountSinceLastStoredEntry: 0,
    });
    expect(sideEffects.runs).toBe(before + 1);
    expect(names(second)).toEqual(['OutputCommand', 'End']);
    expect(JSON.parse(text((second.output as { value: Uint8Array }).value))).toEqual({
      stamped: `order-7#${before + 1}`,
    });
  });

  it('refuses an unknown handler with the HTTP status', async () => {
    const err = (await call('Greeter', 'nope', json(1)).catch(
      (e: unknown) => e,
    )) as InvocationAttemptError;
    expect(err).toBeInstanceOf(InvocationAttemptError);
    expect([err.kind, err.status]).toEqual(['http-status', 404]);
    expect(err.message).toMatch(/answered 404.*No handler found/);
  });

  it('bounds the response size', async () => {
    const err = (await call('Greeter', 'greet', json('x'.repeat(5000)), {
      maxResponseBytes: 1000,
    }).catch((e: unknown) => e)) as InvocationAttemptError;
    expect(err).toBeInstanceOf(InvocationAttemptError);
    expect(err.kind).toBe('too-large');
  });

  it('closes the stream when the AbortSignal fires', async () => {
    gate.reset();
    const ac = new AbortController();
    const pending = call('Hanging', 'wait', new Uint8Array(), { signal: ac.signal }).catch(
      (e: unknown) => e,
    );
    await until(() => gate.entered === 1);
    ac.abort(new Error('shutting down'));
    const err = (await pending) as InvocationAttemptError;
    expect(err).toBeInstanceOf(InvocationAttemptError);
    expect(err.kind).toBe('aborted');
    // The SDK sees the attempt's connection close.
    await until(() => gate.closed === 1);
    gate.release();
  });

  it('times out an attempt that does not finish', async () => {
    gate.reset();
    const err = (await call('Hanging', 'wait', new Uint8Array(), { timeoutMs: 300 }).catch(
      (e: unknown) => e,
    )) as InvocationAttemptError;
    expect(err.kind).toBe('timeout');
    expect(gate.entered).toBe(1);
    gate.release();
  });
});

describe('invokeAttempt against endpoints that break the protocol', () => {
  const servers: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  const fake = async (answer: (res: ServerResponse) => void) => {
    const ep = await startHttp1Endpoint((req, res) => {
      req.resume();
      req.on('end', () => answer(res));
    });
    servers.push(ep);
    return ep;
  };
  const attempt = (url: string) =>
    invokeAttempt({
      baseUrl: url,
      endpoint: { minProtocolVersion: 5, maxProtocolVersion: 6 },
      transport: 'http1',
      service: 'S',
      handler: 'h',
      input: new Uint8Array(),
      ...newId(),
    }).catch((e: unknown) => e as InvocationAttemptError);

  it('fails a response that ends without End, Suspension or Error', async () => {
    const ep = await fake((res) => {
      res.setHeader('content-type', 'application/vnd.restate.invocation.v6');
      res.end(
        frame(
          buildMessage(MessageType.OutputCommand, {
            result: { case: 'value', value: { content: json(1) } },
          }),
        ),
      );
    });
    const err = (await attempt(ep.url)) as InvocationAttemptError;
    expect(err.kind).toBe('incomplete');
    expect(err.message).toMatch(/after 1 message\(s\) without End, Suspension or Error/);
  });

  it('fails a response cut inside a message', async () => {
    const ep = await fake((res) => {
      res.setHeader('content-type', 'application/vnd.restate.invocation.v6');
      res.end(encodeFrame(MessageType.End, new Uint8Array(4)).subarray(0, 10));
    });
    expect(((await attempt(ep.url)) as InvocationAttemptError).kind).toBe('incomplete');
  });

  it('fails a message after the terminal one', async () => {
    const ep = await fake((res) => {
      res.setHeader('content-type', 'application/vnd.restate.invocation.v6');
      res.end(
        Buffer.concat([
          encodeFrame(MessageType.End, new Uint8Array()),
          encodeFrame(MessageType.End, new Uint8Array()),
        ]),
      );
    });
    const err = (await attempt(ep.url)) as InvocationAttemptError;
    expect(err.kind).toBe('protocol');
    expect(err.message).toMatch(/End received after End/);
  });

  it('fails an answer in another content-type, quoting it', async () => {
    const ep = await fake((res) => {
      res.setHeader('content-type', 'application/json');
      res.end('{"message":"hello"}');
    });
    const err = (await attempt(ep.url)) as InvocationAttemptError;
    expect(err.kind).toBe('content-type');
    expect(err.message).toMatch(/'application\/json'.*hello/);
  });
});

describe('invocation request encoding and version negotiation', () => {
  it('negotiates the highest of V5/V6 within the endpoint range', () => {
    expect(negotiateProtocolVersion({ minProtocolVersion: 5, maxProtocolVersion: 7 })).toBe(6);
    expect(negotiateProtocolVersion({ minProtocolVersion: 1, maxProtocolVersion: 5 })).toBe(5);
    expect(() =>
      negotiateProtocolVersion({ minProtocolVersion: 7, maxProtocolVersion: 7 }),
    ).toThrow(/no common service protocol version: the endpoint supports V7–V7/);
    expect(() =>
      negotiateProtocolVersion({ minProtocolVersion: 1, maxProtocolVersion: 4 }),
    ).toThrow(InvocationAttemptError);
  });

  const base: InvokeAttemptRequest = {
    baseUrl: 'http://127.0.0.1:1',
    endpoint: { minProtocolVersion: 5, maxProtocolVersion: 6 },
    service: 'S',
    handler: 'h',
    invocationId: Buffer.from('abc'),
    debugId: 'inv_abc',
    key: 'k',
    input: json({ a: 1 }),
    inputHeaders: { 'x-trace': 't1' },
    state: [['s', json(1)]],
    journal: [buildMessage(MessageType.RunCommand, { resultCompletionId: 1, name: 'r' })],
    retryCountSinceLastStoredEntry: 3,
  };

  it('sends StartMessage (known entries, eager state, retry count, seed), InputCommand, then the journal', () => {
    const [start, input, replayed] = encodeRequestMessages(base, 6);
    const s = decodeAs(MessageType.Start, start);
    expect(s.knownEntries).toBe(2);
    expect(s.partialState).toBe(false);
    expect(s.stateMap.map((e) => [text(e.key), text(e.value)])).toEqual([['s', '1']]);
    expect([s.key, s.debugId, s.retryCountSinceLastStoredEntry]).toEqual(['k', 'inv_abc', 3]);
    expect(s.randomSeed).not.toBe(0n);
    expect(decodeAs(MessageType.Start, encodeRequestMessages(base, 6)[0]).randomSeed).toBe(
      s.randomSeed,
    );
    const i = decodeAs(MessageType.InputCommand, input);
    expect(text(i.value!.content)).toBe('{"a":1}');
    expect(i.headers.map((h) => [h.key, h.value])).toEqual([['x-trace', 't1']]);
    expect(replayed.type).toBe(MessageType.RunCommand);
  });

  it('leaves the random seed unset on V5', () => {
    expect(decodeAs(MessageType.Start, encodeRequestMessages(base, 5)[0]).randomSeed).toBe(0n);
  });

  it('turns a run proposal into the matching RunCompletionNotification', () => {
    const p = decodeAs(
      MessageType.ProposeRunCompletion,
      buildMessage(MessageType.ProposeRunCompletion, {
        resultCompletionId: 4,
        result: { case: 'value', value: json('v') },
      }),
    );
    const n = decodeAs(MessageType.RunCompletionNotification, runCompletionFromProposal(p));
    expect(n.completionId).toBe(4);
    expect(n.result.case === 'value' && text(n.result.value.content)).toBe('"v"');
  });
});
