// The bench handlers written with @tributary/sdk, in their own process:
//   node -r ./scripts/register-ts.js bench/compare/procs/tributary-handler.ts
// HANDLER_PORT: the deployment (registered with Tributary's POST /deployments);
// STATS_PORT: GET /stats, POST /reset (see ../handler-stats.ts).
import * as t from '@tributary/sdk';
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
  ctx: t.ObjectContext,
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

const benchObject = t.object({
  name: SERVICES.object,
  handlers: { handle: async (ctx: t.ObjectContext, input: BenchInput) => count(ctx, input, false) },
});

const benchSleepyObject = t.object({
  name: SERVICES.sleepy,
  handlers: { handle: async (ctx: t.ObjectContext, input: BenchInput) => count(ctx, input, true) },
});

const benchService = t.service({
  name: SERVICES.service,
  handlers: {
    handle: async (ctx: t.Context, input: BenchInput) => {
      const h = ctx.request().headers;
      const done = recorder.begin(h.get('kafka.timestamp'), recordId(h));
      done();
      return input.n;
    },
  },
});

async function main(): Promise<void> {
  const endpoint = await t.serve({
    services: [benchObject, benchService, benchSleepyObject],
    port: envPort('HANDLER_PORT'),
    host: '127.0.0.1',
  });
  const stats = await serveStats(recorder, envPort('STATS_PORT'));
  exitOnSignal(async () => {
    stats.close();
    await endpoint.close();
  });
  process.stdout.write(`tributary bench handlers on ${endpoint.url}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
