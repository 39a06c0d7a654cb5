// The bench handlers written with @restatedev/restate-sdk, in their own process:
//   node -r ./scripts/register-ts.js -r ./bench/restate/polyfill.js \
//     bench/compare/procs/restate-handler.ts
// (the SDK needs Promise.withResolvers, which Node 20 lacks: bench/restate/polyfill.js).
// HANDLER_PORT: the HTTP/2 endpoint (registered with Restate's POST /deployments);
// STATS_PORT: GET /stats, POST /reset (see ../handler-stats.ts).
import * as restate from '@restatedev/restate-sdk';
import http2 from 'node:http2';
import {
  BenchInput,
  envPort,
  exitOnSignal,
  HandlerRecorder,
  serveStats,
  sleep,
  sleepMsFor,
} from '../handler-stats';
import { SERVICES } from '../workloads';

const recorder = new HandlerRecorder();

const recordId = (h: ReadonlyMap<string, string>): string =>
  `${h.get('kafka.partition')}/${h.get('kafka.offset')}`;

async function count(
  ctx: restate.ObjectContext,
  input: BenchInput,
  sleepFirst: boolean,
): Promise<number> {
  const h = ctx.request().headers;
  const done = recorder.begin(h.get('kafka.timestamp'), recordId(h));
  try {
    if (sleepFirst) await sleep(sleepMsFor(input.n));
    const next = ((await ctx.get<number>('count')) ?? 0) + 1;
    ctx.set('count', next);
    recorder.counter(ctx.key, next);
    return next;
  } finally {
    done();
  }
}

const benchObject = restate.object({
  name: SERVICES.object,
  handlers: {
    handle: async (ctx: restate.ObjectContext, input: BenchInput) => count(ctx, input, false),
  },
});

const benchSleepyObject = restate.object({
  name: SERVICES.sleepy,
  handlers: {
    handle: async (ctx: restate.ObjectContext, input: BenchInput) => count(ctx, input, true),
  },
});

const benchService = restate.service({
  name: SERVICES.service,
  handlers: {
    handle: async (ctx: restate.Context, input: BenchInput) => {
      const h = ctx.request().headers;
      const done = recorder.begin(h.get('kafka.timestamp'), recordId(h));
      done();
      return input.n;
    },
  },
});

async function main(): Promise<void> {
  const server = http2.createServer(
    restate.createEndpointHandler({ services: [benchObject, benchService, benchSleepyObject] }),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(envPort('HANDLER_PORT'), '127.0.0.1', () => resolve());
  });
  const stats = await serveStats(recorder, envPort('STATS_PORT'));
  exitOnSignal(async () => {
    stats.close();
    await new Promise((r) => server.close(r));
  });
  process.stdout.write(`restate bench handlers on http://127.0.0.1:${envPort('HANDLER_PORT')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
