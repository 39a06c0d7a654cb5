import { createServer, IncomingMessage, Server } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';

/** One execution of the counting handler, as the handler saw it. */
export interface Execution {
  key: string;
  n: number;
  invocationId: string;
  attempt: number;
  start: number;
  end: number;
  outcome: 'ok' | 'http-500' | 'timeout' | 'dropped' | 'aborted';
}

export interface FaultRates {
  http500: number;
  timeout: number;
  dropped: number;
}

/** One execution of the unkeyed `Sink/record` service, as the handler saw it. */
export interface SinkExecution {
  /** The record's `u` (its index in the test's unkeyed stream). */
  u: number;
  invocationId: string;
  /** The source partition, from the `kafka.partition` header. */
  partition: number;
}

/**
 * A virtual object `Counter/add` written against the handler protocol with node:http alone. It
 * counts per key in its state and logs every execution with its time span; it fails at random:
 * HTTP 500s, answers too slow for the invoker's timeout, and connections dropped after the work
 * was done (the answer lost, as in a crash). An execution ends when it answers or when the
 * invoker closes the connection, so a span covers the whole time the handler was working on it.
 * Beside it, a plain service `Sink/record` (unkeyed, never failing) logs each record it is given.
 */
export class FaultHandler {
  readonly executions: Execution[] = [];
  readonly overlaps: string[] = [];
  readonly sinkExecutions: SinkExecution[] = [];
  private readonly active = new Map<string, Execution>();
  private server?: Server;
  url = '';
  faultsOn = true;
  /** How late this process ran its callbacks: the resolution of the overlap check. */
  readonly loopDelay = monitorEventLoopDelay({ resolution: 10 });

  constructor(private readonly rates: FaultRates) {}

  async start(): Promise<void> {
    this.loopDelay.enable();
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    const addr = this.server.address();
    this.url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }

  private async handle(
    req: IncomingMessage,
    res: import('node:http').ServerResponse,
  ): Promise<void> {
    if (req.method === 'GET' && req.url === '/discover') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          protocolMode: 'REQUEST_RESPONSE',
          minProtocolVersion: 1,
          maxProtocolVersion: 1,
          services: [
            {
              name: 'Counter',
              ty: 'VIRTUAL_OBJECT',
              handlers: [
                {
                  name: 'add',
                  ty: 'EXCLUSIVE',
                  input: { contentType: 'application/json' },
                  output: { contentType: 'application/json' },
                },
              ],
            },
            {
              name: 'Sink',
              ty: 'SERVICE',
              handlers: [
                {
                  name: 'record',
                  input: { contentType: 'application/json' },
                  output: { contentType: 'application/json' },
                },
              ],
            },
          ],
        }),
      );
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString()) as {
      invocationId: string;
      key: string;
      attempt: number;
      body: string;
      state?: Record<string, string>;
      headers?: Record<string, string>;
    };
    if (req.url === '/invoke/Sink/record') {
      this.sinkExecutions.push({
        u: (JSON.parse(Buffer.from(body.body, 'base64').toString()) as { u: number }).u,
        invocationId: body.invocationId,
        partition: Number(body.headers?.['kafka.partition']),
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      return;
    }
    const n = (JSON.parse(Buffer.from(body.body, 'base64').toString()) as { n: number }).n;
    const exec: Execution = {
      key: body.key,
      n,
      invocationId: body.invocationId,
      attempt: body.attempt,
      start: Date.now(),
      end: 0,
      outcome: 'ok',
    };
    const running = this.active.get(body.key);
    if (running) {
      // Events the kernel delivered together (the old connection's close, this request) are
      // dispatched in no particular order: judge once this poll phase has been dispatched.
      setImmediate(() => {
        if (running.end !== 0) return;
        const seenAt = Date.now();
        const report = () =>
          this.overlaps.push(
            `${body.key}: ${running.invocationId} n=${running.n} attempt ${running.attempt} (${running.outcome}, since ${exec.start - running.start} ms, its connection closed ${running.end ? running.end - seenAt : 'never'} ms later) vs ${body.invocationId} n=${n} attempt ${body.attempt}`,
          );
        const wait = setInterval(() => {
          if (running.end !== 0 || Date.now() - seenAt > 5_000) {
            clearInterval(wait);
            report();
          }
        }, 5);
      });
    }
    this.active.set(body.key, exec);
    const finish = (outcome: Execution['outcome']) => {
      if (exec.end !== 0) return;
      exec.end = Date.now();
      exec.outcome = outcome;
      if (this.active.get(body.key) === exec) this.active.delete(body.key);
      this.executions.push(exec);
    };
    res.on('close', () => finish(res.writableFinished ? exec.outcome : 'aborted'));

    const roll = this.faultsOn ? Math.random() : 1;
    const { http500, timeout, dropped } = this.rates;
    if (roll < http500) {
      exec.outcome = 'http-500';
      res.writeHead(500).end('injected failure');
      return;
    }
    if (roll < http500 + timeout) {
      // Slower than the invoker's request timeout: it gives up and closes the connection.
      exec.outcome = 'timeout';
      await new Promise((r) => setTimeout(r, 4_000));
      if (!res.destroyed) res.writeHead(500).end('too late');
      return;
    }
    const count = Number(Buffer.from(body.state?.count ?? 'MA==', 'base64').toString()) + 1;
    if (roll < http500 + timeout + dropped) {
      // The work is done, the answer is lost.
      finish('dropped');
      req.socket.destroy();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        ok: true,
        output: Buffer.from(String(count)).toString('base64'),
        state: { set: { count: Buffer.from(String(count)).toString('base64') } },
      }),
    );
  }
}
