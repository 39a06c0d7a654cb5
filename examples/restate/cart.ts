// A service written with Restate's own TypeScript SDK, exactly as Restate's docs write one (the
// polyfill import aside, which Node 20 needs): Tributary runs it unchanged. `npm run dev` starts
// it on :9081, registers it and subscribes `Cart/add` to the topic `tributary-demo-cart`.
import './polyfill';
import * as restate from '@restatedev/restate-sdk';

type Item = { sku: string; quantity: number };

export const cart = restate.object({
  name: 'Cart',
  handlers: {
    add: async (ctx: restate.ObjectContext, item: Item) => {
      const items = (await ctx.get<Item[]>('items')) ?? [];
      // A side effect, recorded once: a retry replays its result instead of running it again.
      const price = await ctx.run('price lookup', () => item.quantity * 250);
      items.push(item);
      ctx.set('items', items);
      ctx.set('total', ((await ctx.get<number>('total')) ?? 0) + price);
      return { cart: ctx.key, items: items.length, price };
    },
    checkout: async (ctx: restate.ObjectContext) => {
      const total = (await ctx.get<number>('total')) ?? 0;
      if (total === 0) throw new restate.TerminalError('the cart is empty', { errorCode: 400 });
      ctx.clearAll();
      return { paid: total };
    },
  },
});

if (require.main === module) {
  const port = Number(process.env.PORT ?? 9081);
  void restate.serve({ services: [cart], port });
}
