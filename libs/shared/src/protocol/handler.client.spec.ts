// HandlerClient against small node:http servers on loopback that misbehave on purpose.
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { DiscoveryError, HandlerClient, InvokeAbortedError } from './handler.client';
import { waitFor } from '../../../../test/support/kafka';
import { verifyRequest } from './protocol.signature';
import { InvocationRequest } from './protocol.types';

type Listener = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

interface TestServer {
  url: string;
  server: Server;
  connections: () => number;
  /** Resolves once a response of this server was closed (ended or cut off by the client). */
  closed: Promise<void>;
}

const servers: Server[] = [];

async function startServer(listener: Listener): Promise<TestServer> {
  let connections = 0;
  let onClosed!: () => void;
  const closed = new Promise<void>((resolve) => (onClosed = resolve));
  const server = createServer((req, res) => {
    res.on('close', onClosed);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => listener(req, res, Buffer.concat(chunks)));
  });
  server.on('connection', () => connections++);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, server, connections: () => connections, closed };
}

/**
 * Answers 200 without content-length and sends 16 KiB chunks until the client goes away;
 * `startServer` resolves `closed` then.
 */
const streamForever = (): Listener => (_req, res) => {
  const chunk = Buffer.alloc(16 * 1024, 'x');
  res.writeHead(200, { 'content-type': 'application/json' });
  const more = () => {
    while (!res.destroyed && res.write(chunk));
  };
  res.on('drain', more);
  more();
};

const answer =
  (status: number, body: unknown): Listener =>
  (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };

/** A port nothing listens on: bound once, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const request: InvocationRequest = {
  invocationId: 'inv_1',
  service: 'Svc',
  handler: 'h',
  key: '',
  attempt: 1,
  headers: {},
  rawHeaders: {},
  body: '',
};

const MANIFEST = {
  protocolMode: 'REQUEST_RESPONSE',
  minProtocolVersion: 1,
  maxProtocolVersion: 1,
  services: [{ name: 'Svc', ty: 'SERVICE', handlers: [{ name: 'h' }] }],
};

let client: HandlerClient;

beforeEach(() => {
  client = new HandlerClient();
});

afterEach(async () => {
  await client.close();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function discoveryError(uri: string, timeoutMs?: number): Promise<DiscoveryError> {
  const err = await client.discover(uri, { timeoutMs }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(DiscoveryError);
  return err as DiscoveryError;
}

describe('HandlerClient.discover', () => {
  it('returns the parsed manifest and sends the deployment headers', async () => {
    let auth: string | undefined;
    const { url } = await startServer((req, res, body) => {
      auth = req.headers.authorization;
      answer(200, MANIFEST)(req, res, body);
    });
    const manifest = await client.discover(url, { headers: { authorization: 'Bearer t' } });
    expect(manifest.services[0]).toEqual({ name: 'Svc', ty: 'SERVICE', handlers: [{ name: 'h' }] });
    expect(auth).toBe('Bearer t');
  });

  it('says when the deployment is unreachable', async () => {
    const port = await closedPort();
    const err = await discoveryError(`http://127.0.0.1:${port}`);
    expect(err.reason).toBe('unreachable');
    expect(err.message).toBe(`cannot reach http://127.0.0.1:${port}/discover: connection refused`);
  });

  it('says when the answer is not JSON, without a word of the answer', async () => {
    const { url } = await startServer(answer(200, '<html>internal secret</html>'));
    const err = await discoveryError(url);
    expect(err.reason).toBe('not-json');
    expect(err.message).toBe(`${url}/discover answered 200 with a body that is not JSON`);
  });

  it('says what is wrong with a manifest', async () => {
    const bad = { ...MANIFEST, services: [{ name: 'X', ty: 'FOO', handlers: [] }] };
    const { url } = await startServer(answer(200, bad));
    const err = await discoveryError(url);
    expect(err.reason).toBe('not-manifest');
    expect(err.message).toBe(
      `${url}/discover answered an invalid manifest: unknown service type 'FOO' for service 'X' (expected SERVICE, VIRTUAL_OBJECT or WORKFLOW)`,
    );
  });

  it('times out on a slow deployment', async () => {
    const { url } = await startServer(() => undefined); // never answers
    const err = await discoveryError(url, 200);
    expect(err.reason).toBe('timeout');
    expect(err.message).toBe(`no answer from ${url}/discover within 200 ms`);
  });

  it('reports a non-200 status without the body', async () => {
    const { url } = await startServer(answer(503, 'internal secret'));
    const err = await discoveryError(url);
    expect(err).toMatchObject({ reason: 'http-status', status: 503 });
    expect(err.message).toBe(`${url}/discover answered 503`);
  });

  it('stops reading an answer over the limit and says which setting bounds it', async () => {
    const limited = new HandlerClient({
      maxResponseBytes: 1024,
      maxResponseBytesSetting: 'admin.max-manifest-bytes',
    });
    try {
      const streaming = await startServer(streamForever());
      const err = await limited.discover(streaming.url).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DiscoveryError);
      expect(err).toMatchObject({
        reason: 'too-large',
        message: `${streaming.url}/discover answered more than 1024 bytes (admin.max-manifest-bytes); the answer was discarded`,
      });
      await streaming.closed;
    } finally {
      await limited.close();
    }
  });

  it('rejects a URI it cannot call', async () => {
    expect((await discoveryError('ftp://example.com')).reason).toBe('invalid-uri');
    expect((await discoveryError('not a uri')).reason).toBe('invalid-uri');
  });
});

describe('HandlerClient.invoke', () => {
  it('posts signed JSON to {uri}/invoke/{service}/{handler}, under the URI path too', async () => {
    const seen: { path?: string; type?: string; extra?: string; ok?: boolean } = {};
    const { url } = await startServer((req, res, body) => {
      seen.path = req.url;
      seen.type = req.headers['content-type'];
      seen.extra = req.headers['x-extra'] as string;
      const headers = {
        timestamp: req.headers['x-tributary-timestamp'] as string,
        signature: req.headers['x-tributary-signature'] as string,
      };
      seen.ok = verifyRequest('k', { method: req.method!, path: req.url!, body }, headers).ok;
      answer(200, { ok: true, output: Buffer.from('1').toString('base64') })(req, res, body);
    });
    const outcome = await client.invoke(`${url}/base/`, request, {
      signingKey: 'k',
      extraHeaders: { 'x-extra': 'yes' },
    });
    expect(outcome).toMatchObject({ kind: 'success', output: Buffer.from('1') });
    expect(seen).toEqual({
      path: '/base/invoke/Svc/h',
      type: 'application/json',
      extra: 'yes',
      ok: true,
    });
  });

  it('reuses keep-alive connections for sequential invocations', async () => {
    const server = await startServer(answer(200, { ok: true }));
    for (let i = 0; i < 10; i++) {
      expect((await client.invoke(server.url, request)).kind).toBe('success');
    }
    // A second connection may open when the next request races the first one's release.
    expect(server.connections()).toBeLessThanOrEqual(2);
  });

  it('aborts the request in flight when the signal fires', async () => {
    let arrived!: () => void;
    const arrival = new Promise<void>((resolve) => (arrived = resolve));
    let closedByClient!: () => void;
    const closed = new Promise<void>((resolve) => (closedByClient = resolve));
    const { url } = await startServer((_req, res) => {
      res.on('close', () => closedByClient());
      arrived();
    });
    const controller = new AbortController();
    const pending = client.invoke(url, request, { signal: controller.signal });
    await arrival;
    controller.abort(new Error('paused by operator'));
    const err = await pending.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvokeAbortedError);
    expect((err as InvokeAbortedError).reason).toEqual(new Error('paused by operator'));
    await closed; // the server saw the connection go away
  });

  it('turns a deadline into a retryable 504', async () => {
    const { url } = await startServer(() => undefined);
    const outcome = await client.invoke(url, request, { timeoutMs: 200 });
    expect(outcome).toEqual({
      kind: 'failure',
      terminal: false,
      code: 504,
      message: `no answer from ${url}/invoke/Svc/h within 200 ms (deadline exceeded)`,
    });
  });

  it('turns an unreachable deployment into a retryable 503', async () => {
    const port = await closedPort();
    const outcome = await client.invoke(`http://127.0.0.1:${port}`, request);
    expect(outcome).toEqual({
      kind: 'failure',
      terminal: false,
      code: 503,
      message: `cannot reach http://127.0.0.1:${port}/invoke/Svc/h: connection refused`,
    });
  });

  it('treats every non-200 as retryable, with the failure message when there is one', async () => {
    const terminalBody = { ok: false, failure: { terminal: true, message: 'gone', code: 410 } };
    const { url } = await startServer((req, res, body) =>
      req.url?.endsWith('/a')
        ? answer(500, 'boom')(req, res, body)
        : answer(410, terminalBody)(req, res, body),
    );
    expect(await client.invoke(url, { ...request, handler: 'a' })).toEqual({
      kind: 'failure',
      terminal: false,
      code: 500,
      message: `${url}/invoke/Svc/a answered 500: boom`,
    });
    expect(await client.invoke(url, { ...request, handler: 'b' })).toMatchObject({
      terminal: false,
      code: 410,
      message: `${url}/invoke/Svc/b answered 410: gone`,
    });
  });

  it('says the signature was rejected on 401', async () => {
    const { url } = await startServer(answer(401, ''));
    const outcome = await client.invoke(url, request);
    expect(outcome).toMatchObject({ kind: 'failure', terminal: false, code: 401 });
    expect(outcome.kind === 'failure' && outcome.message).toContain(
      'rejected the request signature',
    );
  });

  it.each([
    ['not JSON', 'ok'],
    ['no ok', { output: '' }],
    ['output not base64', { ok: true, output: 'not base64!' }],
    ['failure missing', { ok: false }],
    ['bad state', { ok: true, state: { clear: 'all' } }],
  ])('turns a malformed 200 answer (%s) into a retryable 502', async (_what, body) => {
    const { url } = await startServer(answer(200, body));
    expect(await client.invoke(url, request)).toMatchObject({
      kind: 'failure',
      terminal: false,
      code: 502,
    });
  });

  it('keeps state changes of a terminal failure and drops those of a retryable one', async () => {
    const state = { set: { a: Buffer.from('1').toString('base64') }, clear: ['b'], clearAll: true };
    const { url } = await startServer((req, res, body) =>
      answer(200, {
        ok: false,
        failure: { terminal: req.url!.endsWith('/t'), message: 'no' },
        state,
      })(req, res, body),
    );
    expect(await client.invoke(url, { ...request, handler: 't' })).toEqual({
      kind: 'failure',
      terminal: true,
      code: 500,
      message: 'no',
      state: { set: new Map([['a', Buffer.from('1')]]), clear: ['b'], clearAll: true },
    });
    expect(await client.invoke(url, { ...request, handler: 'r' })).toEqual({
      kind: 'failure',
      terminal: false,
      code: 500,
      message: 'no',
    });
  });
});

describe('HandlerClient reads at most maxResponseBytes of an answer', () => {
  const LIMIT = 64 * 1024;
  let limited: HandlerClient;

  beforeEach(() => {
    limited = new HandlerClient({
      maxResponseBytes: LIMIT,
      maxResponseBytesSetting: 'invoker.max-response-bytes',
    });
  });

  afterEach(() => limited.close());

  const tooLarge = (url: string) => ({
    kind: 'failure',
    terminal: false,
    code: 502,
    message: `${url}/invoke/Svc/h answered more than ${LIMIT} bytes (invoker.max-response-bytes); the answer was discarded`,
  });

  it('fails a streamed answer without content-length once it passes the limit, closing the connection', async () => {
    const server = await startServer(streamForever());
    expect(await limited.invoke(server.url, request)).toEqual(tooLarge(server.url));
    await server.closed; // the server saw the connection go away while it was still sending
  });

  it('fails at once on a content-length over the limit, without waiting for the body', async () => {
    let closedByClient!: () => void;
    const closed = new Promise<void>((resolve) => (closedByClient = resolve));
    const { url } = await startServer((_req, res) => {
      res.on('close', () => closedByClient());
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': LIMIT + 1 });
      res.write('{"ok":true'); // and never the rest
    });
    expect(await limited.invoke(url, request)).toEqual(tooLarge(url));
    await closed;
  });

  it('reads an answer of exactly the limit', async () => {
    const prefix = '{"ok":true,"output":"","pad":"';
    const body = `${prefix}${'x'.repeat(LIMIT - prefix.length - 2)}"}`;
    expect(Buffer.byteLength(body)).toBe(LIMIT);
    const { url } = await startServer(answer(200, body));
    expect(await limited.invoke(url, request)).toMatchObject({ kind: 'success' });
  });

  it('keeps working for the next invocation on the same deployment', async () => {
    const { url } = await startServer((req, res, body) =>
      req.url!.endsWith('/big')
        ? answer(200, { ok: true, pad: 'x'.repeat(LIMIT) })(req, res, body)
        : answer(200, { ok: true })(req, res, body),
    );
    expect(await limited.invoke(url, { ...request, handler: 'big' })).toMatchObject({ code: 502 });
    expect(await limited.invoke(url, request)).toMatchObject({ kind: 'success' });
  });
});

describe('HandlerClient closes the connection of a timed-out request', () => {
  it('so the handler sees each timed-out request end', async () => {
    const closed: number[] = [];
    const server = createServer((req, res) => {
      req.resume();
      res.on('close', () => closed.push(Date.now()));
      // never answers
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const address = server.address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const client = new HandlerClient();
    try {
      for (let i = 0; i < 20; i++) {
        const outcome = await client.invoke(
          url,
          {
            invocationId: `inv_${i}`,
            service: 'S',
            handler: 'h',
            key: '',
            attempt: 1,
            headers: {},
            rawHeaders: {},
            body: '',
          },
          { timeoutMs: 50 },
        );
        expect(outcome).toMatchObject({ kind: 'failure', terminal: false, code: 504 });
        // The server sees this request end (the client closed its connection rather than leaving
        // it pooled or open); one left open would keep the count short until the deadline fails.
        await waitFor(
          () => closed.length === i + 1,
          `request ${i}'s connection to close`,
          5_000,
          5,
        );
        expect(closed).toHaveLength(i + 1);
      }
    } finally {
      await client.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
