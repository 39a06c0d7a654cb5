// Protocol conformance over real HTTP on loopback: the example services (through the SDK) and a
// handler written with node:http alone must look the same to the invoker's HandlerClient.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import * as t from '@tributary/sdk';
import {
  exampleServices,
  startExampleEndpoint,
} from '../../../../examples/handlers/example.endpoint';
import { HandlerClient } from './handler.client';
import { InvocationRequestInput, encodeInvocationRequest } from './invocation-request.encoder';
import { HandlerOutcome } from './protocol.types';

interface Deployment {
  url: string;
  close(): Promise<void>;
}

const KEY = 'conformance-key';
const b64 = (v: string | Uint8Array) => Buffer.from(v).toString('base64');
const ALL_BYTES = Uint8Array.from({ length: 256 }, (_, i) => i);

// --- The SDK side: the examples plus a probe service the examples have no need for -------------

const probe = t.service({
  name: 'Probe',
  handlers: {
    echo: t.handlers.handler({ input: t.serde.binary }, async (ctx, body: Uint8Array) => {
      const req = ctx.request();
      const raw = [...req.rawHeaders].map(([k, v]) => [k, b64(v)]);
      return {
        id: req.id,
        attempt: req.attemptNumber,
        headers: Object.fromEntries(req.headers),
        rawHeaders: Object.fromEntries(raw),
        body: b64(body),
      };
    }),
    flaky: async () => {
      throw new Error('database unavailable, retry later');
    },
  },
});

async function startSdk(signingKey?: string): Promise<Deployment> {
  const services = [...exampleServices, probe];
  const running = await t.serve({ services, port: 0, host: '127.0.0.1', signingKey });
  return { url: running.url, close: () => running.close() };
}

// --- The same handlers with node:http alone: what a non-SDK deployment has to do --------------

interface PlainRequest {
  invocationId: string;
  attempt: number;
  headers: Record<string, string>;
  rawHeaders: Record<string, string>;
  body: string;
  state?: Record<string, string>;
}

type PlainAnswer = Record<string, unknown>;

const okJson = (value: unknown, state?: unknown): PlainAnswer => ({
  ok: true,
  output: b64(JSON.stringify(value)),
  contentType: 'application/json',
  ...(state ? { state } : {}),
});

const plainHandlers: Record<string, (req: PlainRequest) => PlainAnswer> = {
  'Counter/add': (req) => {
    let n: number;
    try {
      n = JSON.parse(Buffer.from(req.body, 'base64').toString('utf8')) as number;
    } catch (err) {
      const message = `Cannot deserialize the input as JSON: ${(err as Error).message}`;
      return { ok: false, failure: { terminal: true, message, code: 400 } };
    }
    const stored = req.state?.count;
    const count = (stored ? Number(Buffer.from(stored, 'base64').toString()) : 0) + n;
    return okJson(count, { set: { count: b64(String(count)) }, clear: [], clearAll: false });
  },
  'Counter/get': (req) =>
    okJson(req.state?.count ? Number(Buffer.from(req.state.count, 'base64').toString()) : null),
  'Raw/ingest': (req) => {
    const bytes = Buffer.from(req.body, 'base64');
    return okJson({
      length: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
  },
  'Probe/echo': (req) =>
    okJson({
      id: req.invocationId,
      attempt: req.attempt,
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      body: req.body,
    }),
  'Probe/flaky': () => ({
    ok: false,
    failure: { terminal: false, message: 'database unavailable, retry later', code: 500 },
  }),
};

const PLAIN_MANIFEST = {
  protocolMode: 'REQUEST_RESPONSE',
  minProtocolVersion: 1,
  maxProtocolVersion: 1,
  services: [
    {
      name: 'Counter',
      ty: 'VIRTUAL_OBJECT',
      handlers: [
        { name: 'add', ty: 'EXCLUSIVE', input: { contentType: 'application/json' } },
        { name: 'get', ty: 'SHARED' },
      ],
    },
    {
      name: 'Raw',
      ty: 'SERVICE',
      handlers: [{ name: 'ingest', input: { contentType: 'application/octet-stream' } }],
    },
    { name: 'Probe', ty: 'SERVICE', handlers: [{ name: 'echo' }, { name: 'flaky' }] },
  ],
};

function plainSignatureValid(key: string, req: IncomingMessage, body: Buffer): boolean {
  const ts = String(req.headers['x-tributary-timestamp'] ?? '');
  const sig = String(req.headers['x-tributary-signature'] ?? '');
  if (Math.abs(Date.now() - Number(ts)) > 300_000 || !sig.startsWith('v1=')) return false;
  const expected = createHmac('sha256', key)
    .update(`${ts}.${req.method} ${req.url}.`)
    .update(body)
    .digest();
  const given = Buffer.from(sig.slice(3), 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function plainListener(signingKey?: string) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const reply = (status: number, json: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(json));
      };
      const failure = (code: number, terminal: boolean, message: string) => ({
        ok: false,
        failure: { terminal, message, code },
      });
      if (signingKey && !plainSignatureValid(signingKey, req, body)) {
        return reply(401, failure(401, false, 'bad signature'));
      }
      if (req.method === 'GET' && req.url === '/discover') return reply(200, PLAIN_MANIFEST);
      const m = /^\/invoke\/([^/]+)\/([^/]+)$/.exec(req.url ?? '');
      const handler = m ? plainHandlers[`${m[1]}/${m[2]}`] : undefined;
      if (!handler) return reply(404, failure(404, true, `no handler at ${req.url}`));
      reply(200, handler(JSON.parse(body.toString('utf8')) as PlainRequest));
    });
  };
}

async function startPlain(signingKey?: string): Promise<Deployment> {
  const server: Server = createServer(plainListener(signingKey));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

// --- The suite, run against both ----------------------------------------------------------------

function request(
  over: Partial<InvocationRequestInput> & Pick<InvocationRequestInput, 'service' | 'handler'>,
) {
  return encodeInvocationRequest({
    invocationId: 'inv_1conformance',
    key: '',
    attempt: 1,
    metadata: { 'kafka.offset': '12', 'kafka.topic': 'orders', 'restate.subscription.id': 'sub_1' },
    body: Buffer.alloc(0),
    ...over,
  });
}

const outputJson = (outcome: HandlerOutcome): unknown => {
  if (outcome.kind !== 'success') throw new Error(`expected success, got ${outcome.message}`);
  return JSON.parse(outcome.output.toString('utf8'));
};

describe.each([
  ['SDK (examples)', startSdk],
  ['plain node:http', startPlain],
])('handler protocol: %s', (_name, start) => {
  let client: HandlerClient;
  let deployment: Deployment;

  beforeAll(() => jest.spyOn(console, 'log').mockImplementation(() => undefined));
  afterAll(() => jest.restoreAllMocks());
  beforeEach(() => {
    client = new HandlerClient();
  });
  afterEach(async () => {
    await client.close();
    await deployment?.close();
  });

  describe('unsigned', () => {
    beforeEach(async () => {
      deployment = await start();
    });

    it('discovers a typed manifest', async () => {
      const manifest = await client.discover(deployment.url, { timeoutMs: 5000 });
      const byName = new Map(manifest.services.map((s) => [s.name, s]));
      expect(byName.get('Counter')).toMatchObject({
        ty: 'VIRTUAL_OBJECT',
        handlers: [
          { name: 'add', ty: 'EXCLUSIVE' },
          { name: 'get', ty: 'SHARED' },
        ],
      });
      expect(byName.get('Raw')).toMatchObject({
        ty: 'SERVICE',
        handlers: [{ name: 'ingest', input: { contentType: 'application/octet-stream' } }],
      });
      expect(byName.get('Raw')!.handlers[0].ty).toBeUndefined();
    });

    it('invokes with state and gets the output and state changes back', async () => {
      const outcome = await client.invoke(
        deployment.url,
        request({
          service: 'Counter',
          handler: 'add',
          key: 'k1',
          body: Buffer.from('5'),
          state: new Map([['count', Buffer.from('37')]]),
        }),
      );
      expect(outputJson(outcome)).toBe(42);
      expect(outcome.kind === 'success' && outcome.contentType).toBe('application/json');
      expect(outcome.state?.set).toEqual(new Map([['count', Buffer.from('42')]]));
      expect(outcome.state?.clearAll).toBe(false);
    });

    it('reports a payload that is not JSON as a terminal 400', async () => {
      const outcome = await client.invoke(
        deployment.url,
        request({ service: 'Counter', handler: 'add', key: 'k1', body: Buffer.from('{"n":') }),
      );
      expect(outcome).toMatchObject({ kind: 'failure', terminal: true, code: 400 });
      expect(outcome.kind === 'failure' && outcome.message).toMatch(
        /^Cannot deserialize the input as JSON: /,
      );
    });

    it('reports a thrown error as a retryable failure without state', async () => {
      const outcome = await client.invoke(
        deployment.url,
        request({ service: 'Probe', handler: 'flaky' }),
      );
      expect(outcome).toEqual({
        kind: 'failure',
        terminal: false,
        code: 500,
        message: 'database unavailable, retry later',
      });
    });

    it('delivers binary bodies unchanged (bytes 0x00..0xff)', async () => {
      const outcome = await client.invoke(
        deployment.url,
        request({ service: 'Raw', handler: 'ingest', body: ALL_BYTES }),
      );
      expect(outputJson(outcome)).toEqual({
        length: 256,
        sha256: createHash('sha256').update(ALL_BYTES).digest('hex'),
      });
      const echo = await client.invoke(
        deployment.url,
        request({ service: 'Probe', handler: 'echo', body: ALL_BYTES }),
      );
      expect(Buffer.from((outputJson(echo) as { body: string }).body, 'base64')).toEqual(
        Buffer.from(ALL_BYTES),
      );
    });

    it('delivers metadata, record headers and non-UTF-8 headers', async () => {
      const outcome = await client.invoke(
        deployment.url,
        request({
          service: 'Probe',
          handler: 'echo',
          attempt: 3,
          recordHeaders: [
            {
              key: 'traceparent',
              value: Buffer.from('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'),
            },
            { key: 'bin', value: Uint8Array.of(0xff, 0xfe, 0x00) },
          ],
        }),
      );
      expect(outputJson(outcome)).toEqual({
        id: 'inv_1conformance',
        attempt: 3,
        headers: {
          'kafka.offset': '12',
          'kafka.topic': 'orders',
          'restate.subscription.id': 'sub_1',
          traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
        },
        rawHeaders: { bin: b64(Uint8Array.of(0xff, 0xfe, 0x00)) },
        body: '',
      });
    });

    it('answers 404 with a terminal body for an unknown handler; the invoker retries', async () => {
      const raw = await fetch(`${deployment.url}/invoke/Counter/nope`, {
        method: 'POST',
        body: '{}',
      });
      expect(raw.status).toBe(404);
      expect(await raw.json()).toMatchObject({ ok: false, failure: { terminal: true, code: 404 } });
      const outcome = await client.invoke(
        deployment.url,
        request({ service: 'Counter', handler: 'nope' }),
      );
      expect(outcome).toMatchObject({ kind: 'failure', terminal: false, code: 404 });
    });
  });

  describe('signed', () => {
    beforeEach(async () => {
      deployment = await start(KEY);
    });

    it('works end to end with the shared key and rejects anything else with 401', async () => {
      await expect(client.discover(deployment.url)).rejects.toMatchObject({
        reason: 'http-status',
        status: 401,
      });
      const manifest = await client.discover(deployment.url, { signingKey: KEY });
      expect(manifest.services.map((s) => s.name)).toContain('Counter');

      const req = request({
        service: 'Counter',
        handler: 'add',
        key: 'k',
        body: Buffer.from('1'),
        state: new Map(),
      });
      const unsigned = await client.invoke(deployment.url, req);
      expect(unsigned).toMatchObject({ kind: 'failure', terminal: false, code: 401 });
      expect(unsigned.kind === 'failure' && unsigned.message).toMatch(/signature/);
      const wrongKey = await client.invoke(deployment.url, req, { signingKey: 'not-the-key' });
      expect(wrongKey).toMatchObject({ kind: 'failure', code: 401 });
      expect(outputJson(await client.invoke(deployment.url, req, { signingKey: KEY }))).toBe(1);
    });
  });
});

describe('example services', () => {
  let client: HandlerClient;
  let running: t.RunningEndpoint;

  beforeAll(async () => {
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
    running = await startExampleEndpoint({ port: 0 });
    client = new HandlerClient();
  });
  afterAll(async () => {
    await client.close();
    await running.close();
    jest.restoreAllMocks();
  });

  const url = () => `http://127.0.0.1:${running.port}`;

  it('binds an ephemeral port and announces all four services', async () => {
    expect(running.port).toBeGreaterThan(0);
    const manifest = await client.discover(url());
    expect(manifest.services.map((s) => `${s.name}:${s.ty}`)).toEqual([
      'Counter:VIRTUAL_OBJECT',
      'Greeter:SERVICE',
      'Raw:SERVICE',
      'Signup:WORKFLOW',
    ]);
    expect(manifest.services[3].handlers).toMatchObject([
      { name: 'run', ty: 'WORKFLOW' },
      { name: 'status', ty: 'SHARED' },
    ]);
  });

  it('greets', async () => {
    const outcome = await client.invoke(
      url(),
      request({ service: 'Greeter', handler: 'greet', body: Buffer.from('"Ann"') }),
    );
    expect(outputJson(outcome)).toBe('Hello, Ann!');
  });

  it('runs the signup workflow and reads its status from the state run left', async () => {
    const run = await client.invoke(
      url(),
      request({
        service: 'Signup',
        handler: 'run',
        key: 'u1',
        body: Buffer.from('{"email":"a@b.c"}'),
        state: new Map(),
      }),
    );
    expect(outputJson(run)).toEqual({ user: 'u1', status: 'welcome-sent' });
    const state = new Map(run.kind === 'success' ? run.state.set : []);
    const status = await client.invoke(
      url(),
      request({ service: 'Signup', handler: 'status', key: 'u1', state }),
    );
    expect(outputJson(status)).toBe('welcome-sent');
    expect(status.kind === 'success' && status.state.set.size).toBe(0);
  });

  it('fails a non-number add terminally', async () => {
    const outcome = await client.invoke(
      url(),
      request({
        service: 'Counter',
        handler: 'add',
        key: 'k',
        body: Buffer.from('"x"'),
        state: new Map(),
      }),
    );
    expect(outcome).toMatchObject({ kind: 'failure', terminal: true, code: 400 });
  });
});
