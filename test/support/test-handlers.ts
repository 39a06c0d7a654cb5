import * as t from '@tributary/sdk';
import { createServer, IncomingMessage, Server } from 'node:http';

/** What the test handlers saw, for assertions. */
export class HandlerLog {
  /** Per object key: the payloads in the order the handler ran them. */
  readonly sequences = new Map<string, number[]>();
  /** Set when two executions of one key ever overlapped. */
  readonly overlaps: string[] = [];
  private readonly active = new Set<string>();
  /** Calls per invocation id (attempts). */
  readonly attempts = new Map<string, number>();
  concurrent = 0;
  maxConcurrent = 0;
  readonly raw: {
    id: string;
    bytes: Buffer;
    headers: Record<string, string>;
    rawHeaders: Record<string, string>;
  }[] = [];
  readonly aborted = new Set<string>();
  /** Services in this set fail retryably until removed. */
  readonly failing = new Set<string>();

  enter(key: string): void {
    if (this.active.has(key)) this.overlaps.push(key);
    this.active.add(key);
  }

  leave(key: string): void {
    this.active.delete(key);
  }

  attempt(id: string): number {
    const n = (this.attempts.get(id) ?? 0) + 1;
    this.attempts.set(id, n);
    return n;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function testServices(log: HandlerLog) {
  const seq = t.object({
    name: 'Seq',
    handlers: {
      record: async (ctx: t.ObjectContext, input: { n: number }) => {
        log.enter(ctx.key);
        try {
          log.attempt(ctx.request().id);
          await sleep(Math.random() * 3);
          const list = log.sequences.get(ctx.key) ?? [];
          list.push(input.n);
          log.sequences.set(ctx.key, list);
          ctx.set('count', ((await ctx.get<number>('count')) ?? 0) + 1);
        } finally {
          log.leave(ctx.key);
        }
      },
    },
  });
  const par = t.service({
    name: 'Par',
    handlers: {
      work: async (ctx: t.Context) => {
        log.attempt(ctx.request().id);
        log.concurrent++;
        log.maxConcurrent = Math.max(log.maxConcurrent, log.concurrent);
        await sleep(300);
        log.concurrent--;
      },
    },
  });
  const flaky = t.service({
    name: 'Flaky',
    handlers: {
      work: async (ctx: t.Context) => {
        log.attempt(ctx.request().id);
        if (ctx.request().attemptNumber < 3)
          throw new Error(`flaky failure on attempt ${ctx.request().attemptNumber}`);
        return 'finally';
      },
    },
  });
  const term = t.service({
    name: 'Term',
    handlers: {
      work: async (ctx: t.Context) => {
        log.attempt(ctx.request().id);
        throw new t.TerminalError('this record can never succeed', { errorCode: 422 });
      },
    },
  });
  const toggle = t.service({
    name: 'Toggle',
    handlers: {
      work: async (ctx: t.Context) => {
        log.attempt(ctx.request().id);
        if (log.failing.has('Toggle')) throw new Error('still failing');
        return 'ok';
      },
    },
  });
  const raw = t.service({
    name: 'Raw',
    handlers: {
      ingest: t.handlers.handler(
        { input: t.serde.binary },
        async (ctx: t.Context, bytes: Uint8Array) => {
          const req = ctx.request();
          log.attempt(req.id);
          log.raw.push({
            id: req.id,
            bytes: Buffer.from(bytes),
            headers: Object.fromEntries(req.headers),
            rawHeaders: Object.fromEntries(
              [...req.rawHeaders].map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
            ),
          });
        },
      ),
    },
  });
  const once = t.workflow({
    name: 'Once',
    handlers: {
      run: async (ctx: t.WorkflowContext, input: { n: number }) => {
        log.attempt(`Once/${ctx.key}`);
        return { key: ctx.key, n: input.n };
      },
    },
  });
  return [seq, par, flaky, term, toggle, raw, once];
}

/**
 * Handlers written with node:http alone: `Slow/work` holds the request until the invoker aborts
 * it (or 30 s pass); `Crashy/bump` (an object) increments a counter in state but, on its first
 * attempt per key, drops the connection after doing its effect, as a crash would.
 */
export function startRawHandlers(log: HandlerLog): Promise<{ server: Server; url: string }> {
  const manifest = {
    protocolMode: 'REQUEST_RESPONSE',
    minProtocolVersion: 1,
    maxProtocolVersion: 1,
    services: [
      {
        name: 'Slow',
        ty: 'SERVICE',
        handlers: [
          {
            name: 'work',
            input: { contentType: 'application/json' },
            output: { contentType: 'application/json' },
          },
        ],
      },
      {
        name: 'Crashy',
        ty: 'VIRTUAL_OBJECT',
        handlers: [
          {
            name: 'bump',
            ty: 'EXCLUSIVE',
            input: { contentType: 'application/json' },
            output: { contentType: 'application/json' },
          },
        ],
      },
      {
        // Declares its own retry policy in the manifest, as Restate's SDKs can.
        name: 'Limited',
        ty: 'SERVICE',
        retryPolicyInitialInterval: 50,
        handlers: [
          {
            name: 'work',
            retryPolicyMaxAttempts: 2,
            retryPolicyOnMaxAttempts: 'KILL',
            input: { contentType: 'application/json' },
            output: { contentType: 'application/json' },
          },
        ],
      },
    ],
  };
  const crashedKeys = new Set<string>();
  const readBody = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString()) as {
      invocationId: string;
      key: string;
      state?: Record<string, string>;
    };
  };
  const server = createServer((req, res) => {
    void (async () => {
      if (req.method === 'GET' && req.url === '/discover') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(manifest));
        return;
      }
      const body = await readBody(req);
      log.attempt(body.invocationId);
      if (req.url === '/invoke/Limited/work') {
        res.writeHead(500).end('always failing');
        return;
      }
      if (req.url === '/invoke/Slow/work') {
        const timer = setTimeout(
          () => res.writeHead(200).end(JSON.stringify({ ok: true })),
          30_000,
        );
        res.on('close', () => {
          clearTimeout(timer);
          if (!res.writableEnded) log.aborted.add(body.invocationId);
        });
        return;
      }
      const count = Number(Buffer.from(body.state?.count ?? 'MA==', 'base64').toString()) + 1;
      if (!crashedKeys.has(body.key)) {
        crashedKeys.add(body.key);
        req.socket.destroy(); // the effect happened; the answer is lost
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          ok: true,
          output: Buffer.from(String(count)).toString('base64'),
          state: { set: { count: Buffer.from(String(count)).toString('base64') } },
        }),
      );
    })();
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      resolve({
        server,
        url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`,
      });
    }),
  );
}
