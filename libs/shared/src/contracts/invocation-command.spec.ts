import { seededRandom } from '../../../../test/support/seeded-random';
import {
  COMMAND_HEADER,
  decodeBusRecord,
  encodeBusMessage,
  InvocationCommand,
} from './invocation-command';

const random = seededRandom(__filename);

const command = (over: Partial<InvocationCommand> = {}): InvocationCommand => ({
  type: 'invoke',
  v: 1,
  id: 'inv_11jMTUIA13DVbml8tgUT1qRH9SnzPcMyqE',
  subscriptionId: 'sub_17dIxfx6WtqJgknUTtNq7v3',
  target: {
    service: 'Cart',
    handler: 'add',
    key: 'clé "1"\n',
    serviceTy: 'VIRTUAL_OBJECT',
    handlerTy: 'EXCLUSIVE',
  },
  record: { topic: 'orders', partition: 3, offset: '42', timestamp: '1764420000123', key: 'AAE=' },
  headers: { traceparent: '00-abc', 'x-ü': 'ü' },
  rawHeaders: { blob: '//4=' },
  body: Buffer.from([0, 1, 2, 255]),
  failure: null,
  retryPolicy: { 'max-attempts': 3 },
  deadLetterTopic: 'orders.dlq',
  ...over,
});

describe(`bus message encoding (TEST_SEED=${random.seed})`, () => {
  it('puts every field but the body in the command header, as JSON in declaration order', () => {
    for (const c of [command(), command({ failure: 'bad', body: null, retryPolicy: null })]) {
      const { body, ...fields } = c;
      const encoded = encodeBusMessage(c);
      expect(encoded.value).toBe(body);
      expect(encoded.headers?.[COMMAND_HEADER]).toBe(JSON.stringify(fields));
    }
  });

  it('writes exactly JSON.stringify of the fields for random commands of alternating subscriptions', () => {
    const { pick } = random;
    const text = () =>
      Array.from({ length: random.int(12) }, () =>
        pick(['a', '"', '\\', '\n', '\u0000', 'é', '\u{1F600}', '\ud800', '<', '/']),
      ).join('');
    for (let i = 0; i < 2_000; i++) {
      const c = command({
        id: `inv_1${text()}`,
        subscriptionId: pick(['sub_a', 'sub_b', text()]),
        target: {
          service: pick(['Cart', text()]),
          handler: pick(['add', text()]),
          key: text(),
          serviceTy: pick(['SERVICE', 'VIRTUAL_OBJECT', 'WORKFLOW'] as const),
          handlerTy: pick([null, 'EXCLUSIVE', 'SHARED', 'WORKFLOW'] as const),
        },
        record: {
          topic: pick(['orders', 'payments', text()]),
          partition: pick([0, 7, 123]),
          offset: String(i),
          timestamp: pick(['1764420000123', '-1']),
          key: pick([null, 'AAE=', text()]),
        },
        headers: pick<Record<string, string>>([{}, { a: text() }, { [text()]: 'x', b: 'y' }]),
        rawHeaders: pick<Record<string, string>>([{}, { blob: '//4=' }]),
        failure: pick([null, text()]),
        retryPolicy: pick([null, {}, { 'max-attempts': 3, 'initial-interval': text() }]),
        deadLetterTopic: pick([null, 'dlq', text()]),
      });
      const { body: _, ...fields } = c;
      expect(encodeBusMessage(c).headers?.[COMMAND_HEADER]).toBe(JSON.stringify(fields));
    }
  });

  it('round-trips a command through decodeBusRecord', () => {
    const c = command();
    const encoded = encodeBusMessage(c);
    const headers = { [COMMAND_HEADER]: Buffer.from(encoded.headers![COMMAND_HEADER]) };
    expect(decodeBusRecord(encoded.value, headers)).toEqual(c);
  });
});
