import { createHmac, randomBytes } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { ObjectContext } from './context.types';
import { RunningEndpoint, ServeOptions, endpoint, serve } from './endpoint.server';
import { handlers } from './handler.definitions';
import { createRequestHandler } from './request.handler';
import { object } from './service.definitions';

const KEY = 'test-signing-key';

const counter = object({
  name: 'Counter',
  handlers: {
    add: async (ctx: ObjectContext, n: number) => {
      const count = ((await ctx.get<number>('count')) ?? 0) + n;
      ctx.set('count', count);
      return count;
    },
    get: handlers.object.shared(async (ctx) => ctx.get<number>('count')),
  },
});

const invokeBody = JSON.stringify({
  invocationId: 'inv_1',
  service: 'Counter',
  handler: 'add',
  key: 'k',
  attempt: 1,
  headers: {},
  rawHeaders: {},
  body: Buffer.from('2').toString('base64'),
  state: {},
});

// Written from the documented scheme (v2), independently of the SDK's verifier.
function signature(
  key: string,
  ts: string,
  nonce: string,
  method: string,
  path: string,
  body: string,
): string {
  const signed = `v2.${ts}.${nonce}.${method} ${path}.${body}`;
  return 'v2=' + createHmac('sha256', key).update(signed).digest('hex');
}

function signedHeaders(method: string, path: string, body: string, ts = String(Date.now())) {
  const nonce = randomBytes(16).toString('hex');
  return {
    'x-tributary-timestamp': ts,
    'x-tributary-nonce': nonce,
    'x-tributary-signature-v2': signature(KEY, ts, nonce, method, path, body),
  };
}

/** What `serve` threw; a server it started anyway is closed, so a failing test ends. */
async function startupError(options: ServeOptions): Promise<unknown> {
  try {
    await (await serve(options)).close();
    return undefined;
  } catch (err) {
    return err;
  }
}

async function call(base: string, method: string, path: string, headers = {}, body?: string) {
  const res = await fetch(base + path, { method, headers, body });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('request handler', () => {
  const envKey = process.env.TRIBUTARY_SIGNING_KEY;
  let running: RunningEndpoint | undefined;
  let base: string;

  beforeAll(() => delete process.env.TRIBUTARY_SIGNING_KEY);
  afterAll(() => {
    if (envKey !== undefined) process.env.TRIBUTARY_SIGNING_KEY = envKey;
  });
  afterEach(async () => {
    await running?.close();
    running = undefined;
  });

  describe('without a signing key', () => {
    beforeEach(async () => {
      running = await serve({ services: [counter], port: 0, host: '127.0.0.1' });
      base = running.url;
    });

    it('serves the manifest and runs handlers unsigned', async () => {
      const manifest = await call(base, 'GET', '/discover');
      expect(manifest.status).toBe(200);
      expect(manifest.json.services).toEqual([
        expect.objectContaining({ name: 'Counter', ty: 'VIRTUAL_OBJECT' }),
      ]);
      const res = await call(base, 'POST', '/invoke/Counter/add', {}, invokeBody);
      expect(res).toEqual({
        status: 200,
        json: expect.objectContaining({ ok: true, output: Buffer.from('2').toString('base64') }),
      });
    });

    it('answers 404 with a terminal failure for an unknown handler', async () => {
      const res = await call(base, 'POST', '/invoke/Counter/nope', {}, invokeBody);
      expect(res).toEqual({
        status: 404,
        json: {
          ok: false,
          failure: {
            terminal: true,
            code: 404,
            message: "handler 'Counter/nope' not found on this deployment",
          },
        },
      });
    });

    it('answers 400 to a body that is not an invoke request', async () => {
      const res = await call(base, 'POST', '/invoke/Counter/add', {}, '{"service":1}');
      expect(res.status).toBe(400);
      expect(res.json.failure).toMatchObject({ terminal: false, code: 400 });
    });

    it('answers 405 to a wrong method', async () => {
      expect((await call(base, 'POST', '/discover')).status).toBe(405);
      expect((await call(base, 'GET', '/invoke/Counter/add')).status).toBe(405);
    });
  });

  describe('with a signing key', () => {
    beforeEach(async () => {
      running = await endpoint().bind(counter).withSigningKey(KEY).listen(0);
      base = running.url;
    });

    it('accepts a correctly signed request', async () => {
      const path = '/invoke/Counter/add';
      const res = await call(
        base,
        'POST',
        path,
        signedHeaders('POST', path, invokeBody),
        invokeBody,
      );
      expect(res.status).toBe(200);
      expect(res.json.ok).toBe(true);
      const discover = await call(base, 'GET', '/discover', signedHeaders('GET', '/discover', ''));
      expect(discover.status).toBe(200);
    });

    it('rejects an unsigned request with 401, discovery included', async () => {
      const res = await call(base, 'POST', '/invoke/Counter/add', {}, invokeBody);
      expect(res).toEqual({
        status: 401,
        json: {
          ok: false,
          failure: {
            terminal: false,
            code: 401,
            message: 'signature rejected: request is not signed',
          },
        },
      });
      expect((await call(base, 'GET', '/discover')).status).toBe(401);
    });

    it('rejects a forged signature', async () => {
      const path = '/invoke/Counter/add';
      const ts = String(Date.now());
      const nonce = randomBytes(16).toString('hex');
      const forged = {
        'x-tributary-timestamp': ts,
        'x-tributary-nonce': nonce,
        'x-tributary-signature-v2': signature('wrong-key', ts, nonce, 'POST', path, invokeBody),
      };
      const res = await call(base, 'POST', path, forged, invokeBody);
      expect(res.status).toBe(401);
      expect(res.json.failure).toMatchObject({
        message: 'signature rejected: signature does not match',
      });
    });

    it('rejects a signature over another body or path', async () => {
      const path = '/invoke/Counter/add';
      const otherBody = invokeBody.replace('"k"', '"k2"');
      const wrongBody = await call(
        base,
        'POST',
        path,
        signedHeaders('POST', path, invokeBody),
        otherBody,
      );
      expect(wrongBody.status).toBe(401);
      const wrongPath = await call(
        base,
        'POST',
        path,
        signedHeaders('POST', '/invoke/Counter/get', invokeBody),
        invokeBody,
      );
      expect(wrongPath.status).toBe(401);
    });

    it('rejects a stale timestamp even with a valid signature', async () => {
      const path = '/invoke/Counter/add';
      const stale = String(Date.now() - 6 * 60 * 1000);
      const res = await call(
        base,
        'POST',
        path,
        signedHeaders('POST', path, invokeBody, stale),
        invokeBody,
      );
      expect(res.status).toBe(401);
      expect(res.json.failure).toMatchObject({
        message: expect.stringContaining('5 minute window'),
      });
    });
  });

  describe('replays', () => {
    const path = '/invoke/Counter/add';

    it('accepts a signed request once and refuses the same request sent again', async () => {
      running = await serve({ services: [counter], port: 0, signingKey: KEY });
      const headers = signedHeaders('POST', path, invokeBody);
      const first = await call(running.url, 'POST', path, headers, invokeBody);
      expect(first.status).toBe(200);
      const replay = await call(running.url, 'POST', path, headers, invokeBody);
      expect(replay).toEqual({
        status: 401,
        json: {
          ok: false,
          failure: {
            terminal: false,
            code: 401,
            message: 'signature rejected: replayed request (nonce already used)',
          },
        },
      });
      // The same body signed again (a retry by the invoker) carries a new nonce.
      const again = await call(
        running.url,
        'POST',
        path,
        signedHeaders('POST', path, invokeBody),
        invokeBody,
      );
      expect(again.status).toBe(200);
    });

    it('refuses a v1 signature, which has no nonce, saying so', async () => {
      running = await serve({ services: [counter], port: 0, signingKey: KEY });
      const ts = String(Date.now());
      const v1 = createHmac('sha256', KEY).update(`${ts}.POST ${path}.${invokeBody}`);
      const headers = {
        'x-tributary-timestamp': ts,
        'x-tributary-signature': `v1=${v1.digest('hex')}`,
      };
      const res = await call(running.url, 'POST', path, headers, invokeBody);
      expect(res.status).toBe(401);
      expect(res.json.failure).toMatchObject({
        message:
          'signature rejected: request has no v2 signature and nonce (the invoker predates replay protection: upgrade it)',
      });
    });

    it('answers 503 rather than forget a nonce once maxNonces are remembered', async () => {
      running = await serve({ services: [counter], port: 0, signingKey: KEY, maxNonces: 1 });
      const send = () =>
        call(running!.url, 'POST', path, signedHeaders('POST', path, invokeBody), invokeBody);
      expect((await send()).status).toBe(200);
      const full = await send();
      expect(full.status).toBe(503);
      expect(full.json.failure).toMatchObject({
        terminal: false,
        message: expect.stringContaining('maxNonces 1'),
      });
    });
  });

  describe('signing key validation', () => {
    it('refuses an empty or whitespace-only key at startup', async () => {
      for (const key of ['', ' ', '\t \n']) {
        expect(await startupError({ services: [counter], port: 0, signingKey: key })).toEqual(
          new TypeError('signing key must not be empty or whitespace'),
        );
        expect(() => endpoint().bind(counter).withSigningKey(key)).toThrow(
          'signing key must not be empty or whitespace',
        );
        expect(() => createRequestHandler([counter], { signingKey: key })).toThrow(
          'signing key must not be empty or whitespace',
        );
      }
    });

    it('refuses a whitespace-only TRIBUTARY_SIGNING_KEY (empty counts as unset)', () => {
      try {
        process.env.TRIBUTARY_SIGNING_KEY = '   ';
        expect(() => createRequestHandler([counter])).toThrow(
          'TRIBUTARY_SIGNING_KEY: signing key must not be empty or whitespace',
        );
        process.env.TRIBUTARY_SIGNING_KEY = '';
        expect(() => createRequestHandler([counter])).not.toThrow();
      } finally {
        delete process.env.TRIBUTARY_SIGNING_KEY;
      }
    });
  });

  describe('mounted in an existing server', () => {
    let server: Server;

    afterEach(async () => {
      await new Promise((resolve) => server.close(resolve));
    });

    it('takes the key from TRIBUTARY_SIGNING_KEY and routes under a prefix', async () => {
      process.env.TRIBUTARY_SIGNING_KEY = KEY;
      const listener = createRequestHandler([counter]);
      delete process.env.TRIBUTARY_SIGNING_KEY;
      server = createServer(listener).listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const path = '/tributary/discover';
      expect((await call(url, 'GET', path)).status).toBe(401);
      const res = await call(url, 'GET', path, signedHeaders('GET', path, ''));
      expect(res.status).toBe(200);
    });
  });
});
