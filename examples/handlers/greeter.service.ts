import * as t from '@tributary/sdk';
import { logInvocation } from './invocation.logger';

const KAFKA_HEADERS = [
  'restate.subscription.id',
  'kafka.topic',
  'kafka.partition',
  'kafka.offset',
  'kafka.timestamp',
  'kafka.key',
];

export const greeter = t.service({
  name: 'Greeter',
  handlers: {
    greet: async (ctx: t.Context, name: string) => {
      const headers = ctx.request().headers;
      // The Kafka coordinates of the record, as Restate passes them.
      const kafka = Object.fromEntries(KAFKA_HEADERS.map((h) => [h, headers.get(h)]));
      logInvocation(ctx, 'Greeter/greet', kafka);
      if (typeof name !== 'string') {
        throw new t.TerminalError(`greet expects a JSON string, got ${JSON.stringify(name)}`, {
          errorCode: 400,
        });
      }
      return `Hello, ${name}!`;
    },
  },
});
