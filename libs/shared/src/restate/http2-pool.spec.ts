// Pooled HTTP/2 sessions (`http2-pool.ts`) under invocation attempts against real
// @restatedev/restate-sdk endpoints served in process: connections are counted on the server
// side (`openConnections()`), requests and open streams too.
import '../../../../test/support/restate-polyfill';
import { RunningEndpoint, startHttp2Endpoint } from '../../../../test/support/restate-sdk-servers';
import { gate, sdkEndpoint } from '../../../../test/support/restate-test-services';
import { EndpointManifest, discoverEndpoint } from './discovery';
import { MessageType } from './framing';
import { closeRestateSessions, Http2SessionPool, restateSessionPool } from './http2-pool';
import { InvocationAttemptError, InvokeAttemptRequest, invokeAttempt } from './invocation';
import { decodeAs, runCompletionFromProposal } from './messages';

const json = (v: unknown) => Buffer.from(JSON.stringify(v));
let idSeq = 0;
const newId = () => {
  idSeq += 1;
  return { invocationId: Buffer.from(`tributary-pool-${idSeq}`), debugId: `inv_pool_${idSeq}` };
};

/** Polls instead of sleeping a fixed time. */
async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('pooled HTTP/2 sessions to a Restate SDK endpoint', () => {
  const endpoints: RunningEndpoint[] = [];
  const pools: Http2SessionPool[] = [];
  let manifest: EndpointManifest;

  const start = async (options: Parameters<typeof startHttp2Endpoint>[1] = {}) => {
    const ep = await startHttp2Endpoint(sdkEndpoint().http2Handler(), options);
    endpoints.push(ep);
    return ep;
  };
  const stop = async (ep: RunningEndpoint) => {
    endpoints.splice(endpoints.indexOf(ep), 1);
    await ep.close();
  };
  const newPool = (idleTimeoutMs?: number) => {
    const pool = new Http2SessionPool({ idleTimeoutMs });
    pools.push(pool);
    return pool;
  };
  const greet = (ep: RunningEndpoint, pool: Http2SessionPool | undefined, who: string) =>
    invokeAttempt({
      baseUrl: ep.url,
      endpoint: manifest,
      transport: 'http2',
      service: 'Greeter',
      handler: 'greet',
      input: json(who),
      pool,
      ...newId(),
    });
  const greeting = (r: Awaited<ReturnType<typeof greet>>): unknown =>
    r.outcome.kind === 'end' && r.outcome.output?.kind === 'success'
      ? (JSON.parse(Buffer.from(r.outcome.output.value).toString('utf8')) as unknown)
      : r.outcome;

  beforeAll(async () => {
    const ep = await start();
    const found = await discoverEndpoint(ep.url);
    manifest = found.manifest;
    // Discovery keeps its one-shot connection: nothing stays open after it.
    await until(() => ep.openConnections() === 0);
  });
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((p) => p.close()));
  });
  afterAll(async () => {
    await closeRestateSessions();
    await Promise.all(endpoints.map((e) => e.close()));
  });

  it('runs N sequential attempts on one connection', async () => {
    const ep = await start();
    const pool = newPool();
    for (let i = 0; i < 10; i += 1) {
      expect(greeting(await greet(ep, pool, `seq-${i}`))).toEqual({
        greeting: `Hello, seq-${i}!`,
      });
      expect(ep.openConnections()).toBe(1);
    }
    expect(ep.requests()).toBe(10);
    expect(pool.sessionCount()).toBe(1);
  });

  it('runs N concurrent attempts on one connection', async () => {
    const ep = await start();
    const pool = newPool();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => greet(ep, pool, `par-${i}`)),
    );
    expect(results.map(greeting)).toEqual(
      Array.from({ length: 20 }, (_, i) => ({ greeting: `Hello, par-${i}!` })),
    );
    expect(ep.requests()).toBe(20);
    expect(ep.openConnections()).toBe(1);
  });

  it('uses the process-wide pool by default, and closeRestateSessions() closes it', async () => {
    const ep = await start();
    await Promise.all([greet(ep, undefined, 'a'), greet(ep, undefined, 'b')]);
    await greet(ep, undefined, 'c');
    expect(ep.openConnections()).toBe(1);
    expect(restateSessionPool().sessionCount(new URL(ep.url).origin)).toBe(1);
    await closeRestateSessions();
    await until(() => ep.openConnections() === 0);
    expect(restateSessionPool().sessionCount()).toBe(0);
    // Still usable: the next attempt opens a new session.
    expect(greeting(await greet(ep, undefined, 'd'))).toEqual({ greeting: 'Hello, d!' });
    await closeRestateSessions();
  });

  it('opens a new session when the server closed the connection', async () => {
    const ep = await start();
    const pool = newPool();
    await greet(ep, pool, 'before');
    expect(ep.openConnections()).toBe(1);
    // The server side drops the session (GOAWAY, then the socket closes): the pool forgets it.
    await stop(ep);
    const again = await start({ port: ep.port });
    await until(() => pool.sessionCount() === 0);
    expect(greeting(await greet(again, pool, 'after'))).toEqual({ greeting: 'Hello, after!' });
    expect(again.openConnections()).toBe(1);
    expect(again.requests()).toBe(1);
  });

  it('fails an attempt while nothing listens, then succeeds once the endpoint is back on the same port', async () => {
    const ep = await start();
    const pool = newPool();
    await greet(ep, pool, 'one');
    await stop(ep);
    await until(() => pool.sessionCount() === 0);
    const err = (await greet(ep, pool, 'refused').catch(
      (e: unknown) => e,
    )) as InvocationAttemptError;
    expect(err).toBeInstanceOf(InvocationAttemptError);
    expect(err.message).toMatch(/ECONNREFUSED/);
    const again = await start({ port: ep.port });
    expect(greeting(await greet(again, pool, 'two'))).toEqual({ greeting: 'Hello, two!' });
    expect(again.openConnections()).toBe(1);
  });

  it('an aborted stream and a timed-out stream leave the others on the same session working', async () => {
    const ep = await start();
    const pool = newPool();
    await greet(ep, pool, 'warm-up');
    gate.reset();
    let otherAborted = false;
    // B: a streamed attempt whose ctx.run result is only answered once A was aborted.
    const b = invokeAttempt({
      baseUrl: ep.url,
      endpoint: manifest,
      transport: 'http2',
      service: 'Runner',
      handler: 'once',
      input: json('pool-b'),
      pool,
      ...newId(),
      stream: {
        async onMessage(m) {
          if (m.type !== MessageType.ProposeRunCompletion) return;
          await until(() => otherAborted);
          return {
            write: [runCompletionFromProposal(decodeAs(MessageType.ProposeRunCompletion, m))],
          };
        },
      },
    });
    // A: a handler that never answers, aborted mid-stream.
    const ac = new AbortController();
    const a = invokeAttempt({
      baseUrl: ep.url,
      endpoint: manifest,
      transport: 'http2',
      service: 'Hanging',
      handler: 'wait',
      input: new Uint8Array(),
      pool,
      signal: ac.signal,
      ...newId(),
    } satisfies InvokeAttemptRequest).catch((e: unknown) => e);
    await until(() => gate.entered === 1);
    ac.abort(new Error('claim lost'));
    const aErr = (await a) as InvocationAttemptError;
    expect(aErr.kind).toBe('aborted');
    otherAborted = true;
    const bResult = await b;
    expect(bResult.outcome.kind).toBe('end');
    await until(() => gate.closed === 1);
    gate.release();

    // C: times out on the same session; D, concurrent with it, completes.
    gate.reset();
    const c = invokeAttempt({
      baseUrl: ep.url,
      endpoint: manifest,
      transport: 'http2',
      service: 'Hanging',
      handler: 'wait',
      input: new Uint8Array(),
      pool,
      timeoutMs: 300,
      ...newId(),
    }).catch((e: unknown) => e);
    await until(() => gate.entered === 1);
    expect(greeting(await greet(ep, pool, 'during'))).toEqual({ greeting: 'Hello, during!' });
    expect(((await c) as InvocationAttemptError).kind).toBe('timeout');
    await until(() => gate.closed === 1);
    gate.release();
    expect(greeting(await greet(ep, pool, 'after'))).toEqual({ greeting: 'Hello, after!' });

    expect(ep.openConnections()).toBe(1);
    await until(() => ep.openStreams() === 0);
    expect(pool.sessionCount()).toBe(1);
  });

  it('opens a second session when the peer’s maxConcurrentStreams is reached', async () => {
    const ep = await start({ settings: { maxConcurrentStreams: 2 } });
    const pool = newPool();
    // Settings known: the first session has exchanged SETTINGS with the peer.
    await greet(ep, pool, 'first');
    gate.reset();
    const held = invokeAttempt({
      baseUrl: ep.url,
      endpoint: manifest,
      transport: 'http2',
      service: 'Hanging',
      handler: 'wait',
      input: new Uint8Array(),
      pool,
      ...newId(),
    });
    await until(() => gate.entered === 1);
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) => greet(ep, pool, `bounded-${i}`)),
    );
    expect(results.map(greeting)).toEqual(
      Array.from({ length: 5 }, (_, i) => ({ greeting: `Hello, bounded-${i}!` })),
    );
    // One slot of the first session is held by the hanging handler: the rest needed more.
    expect(pool.sessionCount()).toBeGreaterThan(1);
    gate.release();
    expect((await held).outcome.kind).toBe('end');
  });

  it('closes a session idle for idleTimeoutMs', async () => {
    const ep = await start();
    const pool = newPool(200);
    await greet(ep, pool, 'idle');
    expect(ep.openConnections()).toBe(1);
    await until(() => ep.openConnections() === 0);
    expect(pool.sessionCount()).toBe(0);
    // A later attempt opens a new one.
    expect(greeting(await greet(ep, pool, 'later'))).toEqual({ greeting: 'Hello, later!' });
    expect(ep.openConnections()).toBe(1);
  });

  it('leaves nothing open after close()', async () => {
    const ep = await start();
    const pool = newPool();
    await Promise.all([greet(ep, pool, 'x'), greet(ep, pool, 'y')]);
    await pool.close();
    expect(pool.sessionCount()).toBe(0);
    await until(() => ep.openConnections() === 0);
  });
});
