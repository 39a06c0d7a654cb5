import { ObjectContext, ObjectSharedContext } from './context.types';
import { handlers } from './handler.definitions';
import { runInvocation } from './invocation.runner';
import { serde } from './serde';
import { ServiceDefinition, object, resolveHandlers, service } from './service.definitions';
import { TerminalError } from './terminal.error';
import { InvocationRequest } from './protocol';

const b64 = (s: string | Uint8Array) => Buffer.from(s).toString('base64');
const json = (v: unknown) => b64(JSON.stringify(v));

function request(overrides: Partial<InvocationRequest> = {}): InvocationRequest {
  return {
    invocationId: 'inv_test',
    service: 'Counter',
    handler: 'add',
    key: 'k1',
    attempt: 1,
    headers: {},
    rawHeaders: {},
    body: '',
    state: {},
    ...overrides,
  };
}

function run(def: ServiceDefinition, handler: string, req: Partial<InvocationRequest> = {}) {
  const spec = resolveHandlers(def).find((s) => s.name === handler)!;
  return runInvocation(spec, request({ service: def.name, handler, ...req }));
}

const counter = object({
  name: 'Counter',
  handlers: {
    add: async (ctx: ObjectContext, n: number) => {
      const count = ((await ctx.get<number>('count')) ?? 0) + n;
      ctx.set('count', count);
      if (count > 100) throw new TerminalError('too big', { errorCode: 422 });
      if (count < 0) throw new RangeError('negative, try later');
      return count;
    },
    peek: handlers.object.shared(async (ctx: ObjectSharedContext) => ctx.get<number>('count')),
    sneakySet: handlers.object.shared(async (ctx: ObjectSharedContext) => {
      (ctx as ObjectContext).set('count', 0); // what the types forbid, done anyway
    }),
    input: async (_ctx: ObjectContext, input: unknown) => ({ got: input ?? 'undefined' }),
  },
});

describe('runInvocation', () => {
  it('returns the output and the state changes on success', async () => {
    const res = await run(counter, 'add', { body: json(5), state: { count: json(37) } });
    expect(res).toEqual({
      ok: true,
      output: json(42),
      contentType: 'application/json',
      state: { set: { count: json(42) }, clear: [], clearAll: false },
    });
  });

  it('makes a TerminalError a terminal failure that keeps its code and state changes', async () => {
    const res = await run(counter, 'add', { body: json(200) });
    expect(res).toEqual({
      ok: false,
      failure: { terminal: true, message: 'too big', code: 422 },
      state: { set: { count: json(200) }, clear: [], clearAll: false },
    });
  });

  it('makes any other error a retryable failure without state changes', async () => {
    const res = await run(counter, 'add', { body: json(-1) });
    expect(res).toEqual({
      ok: false,
      failure: { terminal: false, message: 'RangeError: negative, try later', code: 500 },
    });
  });

  it('fails terminally with 400 on a payload that is not JSON', async () => {
    const res = await run(counter, 'add', { body: b64('{"n": 1') });
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.failure.terminal).toBe(true);
    expect(res.failure.code).toBe(400);
    expect(res.failure.message).toMatch(/^Cannot deserialize the input as JSON: /);
  });

  it('gives undefined for an empty JSON payload', async () => {
    const res = await run(counter, 'input', { body: '' });
    expect(res).toMatchObject({ ok: true, output: json({ got: 'undefined' }) });
  });

  it('lets shared handlers read state but refuses writes at runtime', async () => {
    expect(await run(counter, 'peek', { state: { count: json(7) } })).toMatchObject({
      ok: true,
      output: json(7),
    });
    const res = await run(counter, 'sneakySet', { state: { count: json(7) } });
    expect(res).toEqual({
      ok: false,
      failure: {
        terminal: true,
        code: 500,
        message: expect.stringContaining("ctx.set() called in shared handler 'Counter/sneakySet'"),
      },
    });
  });

  it('gives services no state', async () => {
    const svc = service({
      name: 'Svc',
      handlers: { h: async (ctx) => (ctx as ObjectContext).get('x') },
    });
    const res = await run(svc, 'h', { key: '', state: undefined });
    expect(res).toMatchObject({ ok: false, failure: { terminal: true } });
  });

  it('exposes the request: id, headers, raw headers, body bytes and attempt', async () => {
    const svc = service({
      name: 'Echo',
      handlers: {
        echo: handlers.handler({ input: serde.binary }, async (ctx, body: Uint8Array) => {
          const req = ctx.request();
          return {
            id: req.id,
            attempt: req.attemptNumber,
            offset: req.headers.get('kafka.offset'),
            raw: b64(req.rawHeaders.get('bin')!),
            same: Buffer.compare(Buffer.from(body), Buffer.from(req.body)) === 0,
            size: body.length,
          };
        }),
      },
    });
    const res = await run(svc, 'echo', {
      attempt: 3,
      headers: { 'kafka.offset': '12' },
      rawHeaders: { bin: b64(Uint8Array.of(0xff, 0x00)) },
      body: b64(Uint8Array.of(0, 1, 255)),
    });
    expect(res).toMatchObject({
      ok: true,
      output: json({ id: 'inv_test', attempt: 3, offset: '12', raw: '/wA=', same: true, size: 3 }),
    });
  });
});
