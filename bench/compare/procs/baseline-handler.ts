// The baseline's handler: a plain node:http server doing what the SDK handlers do, with its state
// (the counters) in memory. No durability. The baseline consumer (baseline-consumer.ts) POSTs
// each record to `/<service>/handle` with the record's coordinates in headers.
//   node -r ./scripts/register-ts.js bench/compare/procs/baseline-handler.ts
// HANDLER_PORT: the handler; STATS_PORT: GET /stats, POST /reset (see ../handler-stats.ts).
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import {
  BenchInput,
  envPort,
  exitOnSignal,
  HandlerRecorder,
  serveStats,
  sleep,
  sleepMsFor,
} from '../handler-stats';
import { HANDLER, SERVICES } from '../workloads';

const recorder = new HandlerRecorder();
const counters = new Map<string, number>();

const header = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

async function handle(service: string, req: IncomingMessage, body: Buffer): Promise<number> {
  const done = recorder.begin(
    header(req, 'x-kafka-timestamp'),
    `${header(req, 'x-kafka-partition')}/${header(req, 'x-kafka-offset')}`,
  );
  try {
    const input = JSON.parse(body.toString('utf8')) as BenchInput;
    if (service === SERVICES.service) return input.n;
    if (service === SERVICES.sleepy) await sleep(sleepMsFor(input.n));
    const key = header(req, 'x-kafka-key') ?? '';
    const next = (counters.get(key) ?? 0) + 1;
    counters.set(key, next);
    recorder.counter(key, next);
    return next;
  } finally {
    done();
  }
}

const routes = new Map(Object.values(SERVICES).map((s) => [`/${s}/${HANDLER}`, s]));

function onRequest(req: IncomingMessage, res: ServerResponse): void {
  const service = req.method === 'POST' ? routes.get(req.url ?? '') : undefined;
  if (!service) {
    res.writeHead(404).end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    handle(service, req, Buffer.concat(chunks)).then(
      (result) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(result));
      },
      (err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(err instanceof Error ? err.message : String(err));
      },
    );
  });
}

async function main(): Promise<void> {
  const server = createServer({ keepAliveTimeout: 65_000 }, onRequest);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(envPort('HANDLER_PORT'), '127.0.0.1', () => resolve());
  });
  const stats = await serveStats(recorder, envPort('STATS_PORT'));
  exitOnSignal(async () => {
    stats.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  process.stdout.write(`baseline handler on http://127.0.0.1:${envPort('HANDLER_PORT')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
