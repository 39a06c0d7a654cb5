import { createServer, Server } from 'node:http';

/**
 * What every bench handler process (Tributary SDK, Restate SDK, plain node:http) records, and
 * hands back over a small HTTP endpoint (`GET /stats`, `POST /reset`) on its own port.
 */
export interface HandlerStats {
  /** Handler completions since the last reset, a record handled twice counted twice. */
  handled: number;
  /** Distinct records (partition/offset) handled since the last reset. */
  distinct: number;
  /** Epoch ms of the first handler start and the last handler completion since the reset. */
  firstStartAt: number | null;
  lastEndAt: number | null;
  /** Record timestamp (`kafka.timestamp`) to handler start, in ms, since the reset. */
  latencyMs: {
    p50: number;
    p90: number;
    p99: number;
    p999: number;
    max: number;
    mean: number;
  } | null;
  /** Most handler calls running at once in this process since the reset. */
  maxConcurrent: number;
  /** Records whose timestamp header was missing or not a number. */
  missingTimestamp: number;
  /** Sum over keys of the last counter value each key's handler wrote: never reset. */
  stateTotal: number;
  /** Keys with a counter. */
  stateKeys: number;
}

/** The record fields a handler reads (the payload the bench produces is `{"n":..,"key":..}`). */
export interface BenchInput {
  n: number;
  key: string;
}

/** A deterministic "uniform 0-5 ms" per record: the same record sleeps as long on every system. */
export function sleepMsFor(n: number): number {
  return (Math.imul(n + 1, 0x9e3779b1) >>> 0) % 6;
}

export const sleep = (ms: number): Promise<void> =>
  ms <= 0 ? Promise.resolve() : new Promise((r) => setTimeout(r, ms));

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

export class HandlerRecorder {
  private latencies: number[] = [];
  private seen = new Set<string>();
  private handled = 0;
  private firstStartAt: number | null = null;
  private lastEndAt: number | null = null;
  private running = 0;
  private maxConcurrent = 0;
  private missingTimestamp = 0;
  private readonly counters = new Map<string, number>();

  /**
   * Call first thing in the handler: records the latency from the record's timestamp and returns
   * the function to call when the handler is done.
   */
  begin(timestamp: string | number | undefined, recordId: string): () => void {
    const now = Date.now();
    const ts = typeof timestamp === 'number' ? timestamp : Number(timestamp);
    if (timestamp === undefined || !Number.isFinite(ts) || ts <= 0) this.missingTimestamp++;
    else this.latencies.push(now - ts);
    if (this.firstStartAt === null) this.firstStartAt = now;
    this.running++;
    if (this.running > this.maxConcurrent) this.maxConcurrent = this.running;
    return () => {
      this.running--;
      this.handled++;
      this.seen.add(recordId);
      this.lastEndAt = Date.now();
    };
  }

  /** The counter value a keyed handler wrote for `key` (the last write wins). */
  counter(key: string, value: number): void {
    this.counters.set(key, value);
  }

  reset(): void {
    this.latencies = [];
    this.seen = new Set();
    this.handled = 0;
    this.firstStartAt = null;
    this.lastEndAt = null;
    this.maxConcurrent = this.running;
    this.missingTimestamp = 0;
  }

  stats(): HandlerStats {
    let latencyMs: HandlerStats['latencyMs'] = null;
    if (this.latencies.length > 0) {
      const sorted = Float64Array.from(this.latencies).sort();
      let sum = 0;
      for (const v of sorted) sum += v;
      latencyMs = {
        p50: percentile(sorted, 0.5),
        p90: percentile(sorted, 0.9),
        p99: percentile(sorted, 0.99),
        p999: percentile(sorted, 0.999),
        max: sorted[sorted.length - 1],
        mean: Math.round((sum / sorted.length) * 10) / 10,
      };
    }
    let stateTotal = 0;
    for (const v of this.counters.values()) stateTotal += v;
    return {
      handled: this.handled,
      distinct: this.seen.size,
      firstStartAt: this.firstStartAt,
      lastEndAt: this.lastEndAt,
      latencyMs,
      maxConcurrent: this.maxConcurrent,
      missingTimestamp: this.missingTimestamp,
      stateTotal,
      stateKeys: this.counters.size,
    };
  }
}

/** Serves `GET /health`, `GET /stats` and `POST /reset` on 127.0.0.1:`port`. */
export function serveStats(recorder: HandlerRecorder, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && req.url === '/health') return send(200, { ok: true });
    if (req.method === 'GET' && req.url === '/stats') return send(200, recorder.stats());
    if (req.method === 'POST' && req.url === '/reset') {
      recorder.reset();
      return send(200, { ok: true });
    }
    send(404, { message: 'not found' });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/** A required integer environment variable. */
export function envPort(name: string): number {
  const v = Number(process.env[name]);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${name} must be a port number`);
  return v;
}

/** Ends the process on SIGTERM/SIGINT after `close` (at most 2 s: open HTTP/2 sessions). */
export function exitOnSignal(close: () => Promise<unknown>): void {
  const stop = (): void => {
    setTimeout(() => process.exit(0), 2_000).unref();
    close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
