import * as t from '@tributary/sdk';
import { logInvocation } from './invocation.logger';

/** Keyed by the record key: adds are applied one at a time per key, in partition order. */
export const counter = t.object({
  name: 'Counter',
  handlers: {
    add: async (ctx: t.ObjectContext, n: number) => {
      logInvocation(ctx, 'Counter/add', {
        key: ctx.key,
        'kafka.offset': ctx.request().headers.get('kafka.offset'),
      });
      if (typeof n !== 'number' || !Number.isFinite(n)) {
        // A bad payload will not get better on retry: fail it for good.
        throw new t.TerminalError(`add expects a number, got ${JSON.stringify(n)}`, {
          errorCode: 400,
        });
      }
      const count = ((await ctx.get<number>('count')) ?? 0) + n;
      ctx.set('count', count);
      return count;
    },
    get: t.handlers.object.shared(async (ctx: t.ObjectSharedContext) => {
      logInvocation(ctx, 'Counter/get', { key: ctx.key });
      return (await ctx.get<number>('count')) ?? 0;
    }),
  },
});
