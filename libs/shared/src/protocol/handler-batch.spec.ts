// Batched invocations (protocol version 2, POST /invoke-batch): HandlerClient against a real
// SDK endpoint on loopback.
import * as t from '@tributary/sdk';
import { HandlerClient, InvokeAbortedError } from './handler.client';
import { HandlerOutcome, InvocationRequest } from './protocol.types';

const KEY = 'batch-key';
const b64 = (v: string) => Buffer.from(v).toString('base64');

let gate: Promise<void> = Promise.resolve();
let started = 0;
/** The path of every request the endpoint received. */
let paths: string[] = [];
/** Every invocation signed, batched when it can be. */
const opts = { batch: true, signingKey: KEY };

const counter = t.object({
  name: 'Counter',
  handlers: {
    add: async (ctx: t.ObjectContext, n: number) => {
      started++;
      const next = ((await ctx.get<number>('count')) ?? 0) + n;
      ctx.set('count', next);
      return next;
    },
  },
});

const waiter = t.service({
  name: 'Waiter',
  handlers: {
    /** Ends when the test opens the gate. */
    wait: async () => {
      started++;
      await gate;
      return 'done';
    },
    fast: async () => 'fast',
    big: async (_ctx: t.Context, size: number) => 'x'.repeat(size),
  },
});

function invocation(i: number, service: string, handler: string, body: unknown): InvocationRequest {
  return {
    invocationId: `inv_batch_${i}`,
    service,
    handler,
    key: service === 'Counter' ? `k${i}` : '',
    attempt: 1,
    headers: {},
    rawHeaders: {},
    contentType: 'application/json',
    body: b64(JSON.stringify(body)),
    ...(service === 'Counter' ? { state: { count: b64('10') } } : {}),
  };
}

const decoded = (o: HandlerOutcome) =>
  o.kind === 'success' ? Buffer.from(o.output).toString() : `${o.code} ${o.message}`;

describe('HandlerClient batches invocations of a version 2 deployment', () => {
  let endpoint: t.RunningEndpoint;
  let client: HandlerClient;

  beforeAll(async () => {
    endpoint = await t.serve({
      services: [counter, waiter],
      port: 0,
      host: '127.0.0.1',
      signingKey: KEY,
    });
    endpoint.server.on('request', (req: { url?: string }) => paths.push(req.url ?? ''));
  });
  afterAll(() => endpoint.close());
  beforeEach(() => {
    client = new HandlerClient();
    started = 0;
    paths = [];
    gate = Promise.resolve();
  });
  afterEach(() => client.close());

  it('sends the invocations of one turn in one signed request and answers each', async () => {
    const outcomes = await Promise.all(
      [1, 2, 3, 4, 5].map((i) =>
        client.invoke(endpoint.url, invocation(i, 'Counter', 'add', i), opts),
      ),
    );
    expect(outcomes.map(decoded)).toEqual(['11', '12', '13', '14', '15']);
    const first = outcomes[0];
    expect(first.kind === 'success' && first.state.set.get('count')?.toString()).toBe('11');
    expect(paths).toEqual(['/invoke-batch']);
  });

  it('answers one invocation of a batch without waiting for the others', async () => {
    let open!: () => void;
    gate = new Promise((resolve) => (open = resolve));
    const slow = client.invoke(endpoint.url, invocation(1, 'Waiter', 'wait', null), opts);
    const fast = await client.invoke(endpoint.url, invocation(2, 'Waiter', 'fast', null), opts);
    expect(decoded(fast)).toBe('"fast"');
    expect(started).toBe(1); // the slow one is still running
    open();
    expect(decoded(await slow)).toBe('"done"');
    expect(paths).toEqual(['/invoke-batch']);
  });

  it('gives a handler the deployment does not have its own 404, the others their answers', async () => {
    const [missing, found] = await Promise.all([
      client.invoke(endpoint.url, invocation(1, 'Counter', 'nope', 1), opts),
      client.invoke(endpoint.url, invocation(2, 'Counter', 'add', 1), opts),
    ]);
    expect(missing).toMatchObject({ kind: 'failure', terminal: false, code: 404 });
    expect(decoded(found)).toBe('11');
  });

  it('settles an aborted invocation alone: the request goes on for the others', async () => {
    let open!: () => void;
    gate = new Promise((resolve) => (open = resolve));
    const controller = new AbortController();
    const aborted = client.invoke(endpoint.url, invocation(1, 'Waiter', 'wait', null), {
      ...opts,
      signal: controller.signal,
    });
    const other = client.invoke(endpoint.url, invocation(2, 'Waiter', 'wait', null), opts);
    // Both have started on the deployment: the request is in flight.
    const deadline = Date.now() + 5_000;
    while (started < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(started).toBe(2);
    controller.abort(new Error('killed by operator'));
    const own = await aborted.catch((e: unknown) => e);
    expect(own).toBeInstanceOf(InvokeAbortedError);
    expect((own as InvokeAbortedError).reason).toEqual(new Error('killed by operator'));
    open();
    // The other one is not handed back to run again: it completes in the same request.
    expect(decoded(await other)).toBe('"done"');
    expect(paths).toEqual(['/invoke-batch']);
    expect(started).toBe(2);
  });

  it('fails only the invocation whose answer is too large; the others complete', async () => {
    const small = new HandlerClient({ maxResponseBytes: 1000 });
    try {
      const [fast, big, waiting] = await Promise.allSettled([
        small.invoke(endpoint.url, invocation(1, 'Waiter', 'fast', null), opts),
        small.invoke(endpoint.url, invocation(2, 'Waiter', 'big', 5000), opts),
        small.invoke(endpoint.url, invocation(3, 'Waiter', 'wait', null), opts),
      ]);
      expect(fast.status === 'fulfilled' && decoded(fast.value)).toBe('"fast"');
      expect(big).toMatchObject({
        status: 'fulfilled',
        value: {
          kind: 'failure',
          code: 502,
          message: expect.stringContaining(
            '/invoke/Waiter/big answered more than 1000 bytes',
          ) as string,
        },
      });
      expect(waiting.status === 'fulfilled' && decoded(waiting.value)).toBe('"done"');
      expect(paths).toEqual(['/invoke-batch']);
    } finally {
      await small.close();
    }
  });

  it('turns a refused batch (bad signature) into each invocation’s retryable 401', async () => {
    const outcomes = await Promise.all(
      [1, 2].map((i) =>
        client.invoke(endpoint.url, invocation(i, 'Counter', 'add', i), {
          batch: true,
          signingKey: 'the-wrong-key',
        }),
      ),
    );
    for (const o of outcomes) {
      expect(o).toMatchObject({ kind: 'failure', terminal: false, code: 401 });
    }
    expect(started).toBe(0);
    expect(paths).toEqual(['/invoke-batch']);
  });

  it('sends a lone invocation as a plain request', async () => {
    const outcome = await client.invoke(endpoint.url, invocation(1, 'Counter', 'add', 2), opts);
    expect(decoded(outcome)).toBe('12');
    expect(paths).toEqual(['/invoke/Counter/add']);
  });
});
