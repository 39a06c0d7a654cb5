// Services written with Restate's own SDK, unchanged, for the tests of libs/shared/src/restate.
import './restate-polyfill';
import * as restate from '@restatedev/restate-sdk';

export const greeter = restate.service({
  name: 'Greeter',
  handlers: {
    greet: async (_ctx: restate.Context, name: string) => ({ greeting: `Hello, ${name}!` }),
  },
  options: {
    retryPolicy: {
      initialInterval: 250,
      maxInterval: 10_000,
      maxAttempts: 7,
      exponentiationFactor: 2,
      onMaxAttempts: 'kill',
    },
  },
});

export const counter = restate.object({
  name: 'Counter',
  handlers: {
    /** Adds to `count`, forgets `last-error`, returns the new count. */
    add: async (ctx: restate.ObjectContext, delta: number) => {
      const count = ((await ctx.get<number>('count')) ?? 0) + delta;
      ctx.set('count', count);
      ctx.clear('last-error');
      return count;
    },
    reset: async (ctx: restate.ObjectContext) => {
      ctx.clearAll();
    },
    peek: restate.handlers.object.shared(async (ctx: restate.ObjectSharedContext) => {
      return (await ctx.get<number>('count')) ?? null;
    }),
  },
});

export const failing = restate.service({
  name: 'Failing',
  handlers: {
    terminal: async (_ctx: restate.Context) => {
      throw new restate.TerminalError('order 42 is unknown', { errorCode: 404 });
    },
    boom: async (_ctx: restate.Context) => {
      throw new Error('database is down');
    },
  },
});

/** Counts how often the side effect inside `ctx.run` really ran, across attempts. */
export const sideEffects = { runs: 0 };

export const runner = restate.service({
  name: 'Runner',
  handlers: {
    once: async (ctx: restate.Context, input: string) => {
      const stamped = await ctx.run('stamp', () => {
        sideEffects.runs += 1;
        return `${input}#${sideEffects.runs}`;
      });
      return { stamped };
    },
  },
});

/** Counts the runs of each closure of `TwoRuns/twice`, across attempts. */
export const twiceRuns = { first: 0, second: 0 };

export const twoRuns = restate.service({
  name: 'TwoRuns',
  handlers: {
    /** Two sequential `ctx.run`s, the second using the first's result. */
    twice: async (ctx: restate.Context, input: string) => {
      const a = await ctx.run('first', () => {
        twiceRuns.first += 1;
        return `${input}-a${twiceRuns.first}`;
      });
      const b = await ctx.run('second', () => {
        twiceRuns.second += 1;
        return `${a}-b${twiceRuns.second}`;
      });
      return { a, b };
    },
  },
});

export const sleeper = restate.service({
  name: 'Sleeper',
  handlers: {
    /** Sleeps for an hour: nothing here completes a sleep, so the SDK waits or suspends. */
    nap: async (ctx: restate.Context) => {
      await ctx.sleep(3_600_000);
      return 'rested';
    },
  },
});

/** A handler that waits until the test lets it go: for abort tests. */
export const gate = {
  entered: 0,
  /** Attempts whose connection the SDK saw close (its attemptCompletedSignal fired). */
  closed: 0,
  release: () => undefined as void,
  reset() {
    this.entered = 0;
    this.closed = 0;
    this.release();
  },
};

export const hanging = restate.service({
  name: 'Hanging',
  handlers: {
    wait: async (ctx: restate.Context) => {
      gate.entered += 1;
      ctx.request().attemptCompletedSignal.addEventListener('abort', () => {
        gate.closed += 1;
      });
      await new Promise<void>((resolve) => {
        gate.release = resolve;
      });
      return 'released';
    },
  },
});

export const allServices = [greeter, counter, failing, runner, twoRuns, sleeper, hanging];

/** The SDK logs to the console by default; set RESTATE_TEST_LOGS=1 to see it. */
const quiet: restate.LoggerTransport = (params, message, ...rest) => {
  if (process.env.RESTATE_TEST_LOGS) console.log(`[${params.level}]`, message, ...rest);
};

export function sdkEndpoint(): restate.RestateEndpoint {
  return allServices.reduce((ep, svc) => ep.bind(svc), restate.endpoint().setLogger(quiet));
}
