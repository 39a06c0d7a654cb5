import { createHmac, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { request } from 'node:http';
import { Socket } from 'node:net';
import { RunningEndpoint, serve } from './endpoint.server';
import { service } from './service.definitions';

// Request bodies are read up to a limit, and with a signing key the signature headers are
// checked before any of the body is read. What the server read is measured on its own sockets
// (`bytesRead`), so an unbounded read shows up whatever the answer.

const KEY = 'limits-signing-key';
const LIMIT = 64 * 1024;
const SENT = 8 * 1024 * 1024;
/** Headers plus what node:http reads ahead before the refusal closes the connection. */
const READ_BOUND = 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 'a');
const PATH = '/invoke/Echo/run';

let runs = 0;
const echo = service({
  name: 'Echo',
  handlers: {
    run: async (_ctx, input: string) => {
      runs += 1;
      return input;
    },
  },
});

const invokeBody = JSON.stringify({
  invocationId: 'inv_1',
  service: 'Echo',
  handler: 'run',
  key: '',
  attempt: 1,
  headers: {},
  rawHeaders: {},
  body: Buffer.from('"hi"').toString('base64'),
});

interface Sent {
  status?: number;
  body?: string;
  error?: string;
  /** Bytes the client handed to its socket before the exchange ended. */
  written: number;
}

/** POSTs `total` bytes in chunks, honouring backpressure, until done or the server gives up. */
function streamPost(
  url: string,
  headers: Record<string, string>,
  total: number,
  path = PATH,
): Promise<Sent> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const out: Sent = { written: 0 };
    const req = request({ hostname, port, path, method: 'POST', headers, agent: false });
    req.on('response', (res) => {
      out.status = res.statusCode;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => (out.body = Buffer.concat(chunks).toString('utf8')));
      res.on('error', () => undefined);
    });
    req.on('error', (err) => (out.error = err.message));
    req.on('close', () => resolve(out));
    const pump = (): void => {
      while (out.written < total && !req.destroyed) {
        out.written += CHUNK.length;
        if (!req.write(CHUNK)) {
          req.once('drain', pump);
          return;
        }
      }
      if (!req.destroyed) req.end();
    };
    pump();
  });
}

/** The v2 signature headers over `SENT` bytes of 'a', the body `streamPost` sends. */
function signedLargeBody(ts = String(Date.now())): Record<string, string> {
  const nonce = randomBytes(16).toString('hex');
  const hmac = createHmac('sha256', KEY).update(`v2.${ts}.${nonce}.POST ${PATH}.`);
  for (let n = 0; n < SENT; n += CHUNK.length) hmac.update(CHUNK);
  return {
    'x-tributary-timestamp': ts,
    'x-tributary-nonce': nonce,
    'x-tributary-signature-v2': `v2=${hmac.digest('hex')}`,
  };
}

describe('request body limits', () => {
  const envKey = process.env.TRIBUTARY_SIGNING_KEY;
  let running: RunningEndpoint | undefined;
  /** Resolves with the bytes the server read on each connection, once it is closed. */
  let socketsRead: Promise<number>[];

  beforeAll(() => delete process.env.TRIBUTARY_SIGNING_KEY);
  afterAll(() => {
    if (envKey !== undefined) process.env.TRIBUTARY_SIGNING_KEY = envKey;
  });
  beforeEach(() => {
    runs = 0;
    socketsRead = [];
  });
  afterEach(async () => {
    await running?.close();
    running = undefined;
  });

  async function start(options: { signingKey?: string; maxRequestBytes?: number }) {
    running = await serve({ services: [echo], port: 0, host: '127.0.0.1', ...options });
    running.server.on('connection', (socket: Socket) => {
      socketsRead.push(once(socket, 'close').then(() => socket.bytesRead));
    });
    return running.url;
  }

  async function serverRead(): Promise<number> {
    const read = await Promise.all(socketsRead);
    return read.reduce((a, b) => a + b, 0);
  }

  it('an unsigned streamed POST to a signing endpoint: 401 before reading the body', async () => {
    const url = await start({ signingKey: KEY, maxRequestBytes: LIMIT });
    const sent = await streamPost(url, {}, SENT);
    expect(sent.status).toBe(401);
    expect(JSON.parse(sent.body ?? '{}').failure.message).toBe(
      'signature rejected: request is not signed',
    );
    expect(await serverRead()).toBeLessThan(READ_BOUND);
    expect(runs).toBe(0);
  });

  it('a stale signed POST: 401 before reading the body', async () => {
    const url = await start({ signingKey: KEY, maxRequestBytes: LIMIT });
    const stale = String(Date.now() - 6 * 60 * 1000);
    const sent = await streamPost(url, signedLargeBody(stale), SENT);
    expect(sent.status).toBe(401);
    expect(sent.body).toContain('5 minute window');
    expect(await serverRead()).toBeLessThan(READ_BOUND);
  });

  it('a declared content-length above the limit: 413 before reading', async () => {
    const url = await start({ maxRequestBytes: LIMIT });
    const sent = await streamPost(url, { 'content-length': String(SENT) }, SENT);
    expect(sent.status).toBe(413);
    expect(JSON.parse(sent.body ?? '{}').failure.message).toBe(
      `request body of ${SENT} bytes exceeds the limit of ${LIMIT} bytes (maxRequestBytes)`,
    );
    expect(await serverRead()).toBeLessThan(READ_BOUND);
    expect(runs).toBe(0);
  });

  it('a chunked body without content-length is cut off past the limit: 413', async () => {
    const url = await start({ maxRequestBytes: LIMIT });
    const sent = await streamPost(url, {}, SENT);
    expect(sent.status).toBe(413);
    expect(sent.body).toContain(`exceeds the limit of ${LIMIT} bytes (maxRequestBytes)`);
    expect(await serverRead()).toBeLessThan(READ_BOUND);
    expect(runs).toBe(0);
  });

  it('a correctly signed body past the limit is cut off too: 413', async () => {
    const url = await start({ signingKey: KEY, maxRequestBytes: LIMIT });
    const sent = await streamPost(url, signedLargeBody(), SENT);
    expect(sent.status).toBe(413);
    expect(await serverRead()).toBeLessThan(READ_BOUND);
  });

  it('a body of exactly the limit is served, one byte less of limit is 413', async () => {
    const size = Buffer.byteLength(invokeBody);
    const post = async (url: string) => {
      const res = await fetch(url + PATH, { method: 'POST', body: invokeBody });
      return res.status;
    };
    expect(await post(await start({ maxRequestBytes: size }))).toBe(200);
    expect(runs).toBe(1);
    await running?.close();
    expect(await post(await start({ maxRequestBytes: size - 1 }))).toBe(413);
    expect(runs).toBe(1);
  });

  it('refuses a limit that is not a positive integer', async () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      let error: unknown;
      try {
        await (await serve({ services: [echo], port: 0, maxRequestBytes: bad })).close();
      } catch (err) {
        error = err;
      }
      expect(error).toEqual(
        new TypeError(`maxRequestBytes must be a positive integer; got ${bad}`),
      );
    }
  });
});
