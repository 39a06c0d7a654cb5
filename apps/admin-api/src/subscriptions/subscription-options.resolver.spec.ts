import { AdminError } from '../common/admin-error';
import {
  defaultsForNew,
  resolveSubscriptionOptions,
  sameOptions,
} from './subscription-options.resolver';

const CLUSTER = { 'bootstrap.servers': '127.0.0.1:9092' };
const SUB_ID = 'sub_17dIxfx6WtqJgknUTtNq7v3';

function resolve(given: Record<string, unknown>, cluster: Record<string, string> = CLUSTER) {
  return resolveSubscriptionOptions(given, cluster, defaultsForNew(cluster, SUB_ID), 'orders');
}

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof AdminError && err.status === 400) return err.message;
    throw err;
  }
  throw new Error('expected a 400');
}

describe('subscription options', () => {
  it('defaults group.id to the subscription id and client.id to restate', () => {
    expect(resolve({ 'auto.offset.reset': 'earliest' })).toEqual({
      options: { 'auto.offset.reset': 'earliest', 'group.id': SUB_ID, 'client.id': 'restate' },
      deadLetterTopic: null,
      warnings: [],
    });
  });

  it('takes group.id and client.id from the cluster properties when the options lack them', () => {
    const cluster = { ...CLUSTER, 'group.id': 'shared', 'client.id': 'billing' };
    expect(resolve({}, cluster).options).toEqual({ 'group.id': 'shared', 'client.id': 'billing' });
    expect(resolve({ 'group.id': 'mine' }, cluster).options['group.id']).toBe('mine');
  });

  it('reads the dead-letter topic and refuses the source topic itself', () => {
    expect(resolve({ 'tributary.dead-letter-topic': 'orders.dlq' }).deadLetterTopic).toBe(
      'orders.dlq',
    );
    expect(message(() => resolve({ 'tributary.dead-letter-topic': 'orders' }))).toContain(
      'must name a topic other than the source topic',
    );
    expect(message(() => resolve({ 'tributary.dead-letter-topic': 'no spaces' }))).toContain(
      "option 'tributary.dead-letter-topic' must be a Kafka topic name",
    );
  });

  it('accepts librdkafka keys without an effect, with a warning naming them', () => {
    const { warnings } = resolve({ 'enable.auto.commit': 'false', 'queued.min.messages': '10' });
    expect(warnings).toEqual(
      expect.arrayContaining([
        expect.stringContaining("'enable.auto.commit'"),
        expect.stringContaining("'queued.min.messages'"),
      ]),
    );
  });

  it('rejects unknown keys and non-string values, naming them', () => {
    expect(message(() => resolve({ 'foo.bar': 'x', 'tributary.nope': 'y' }))).toMatch(
      /unknown option 'foo\.bar'.*unknown option 'tributary\.nope'/,
    );
    expect(message(() => resolve({ 'fetch.wait.max.ms': 100, 'group.id': null }))).toContain(
      "'fetch.wait.max.ms' (number), 'group.id' (null)",
    );
  });

  it('rejects a NUL character and a client or group id longer than Kafka can send', () => {
    expect(message(() => resolve({ 'client.id': 'a\u0000b' }))).toContain(
      "option 'client.id' has a NUL character",
    );
    expect(message(() => resolve({ 'group.id': 'g'.repeat(32_768) }))).toContain(
      "option 'group.id' is 32768 bytes long; Kafka takes at most 32767",
    );
    expect(resolve({ 'group.id': 'g'.repeat(32_767) }).options['group.id']).toHaveLength(32_767);
  });

  it('validates the options merged over the cluster properties', () => {
    const sasl = { ...CLUSTER, 'security.protocol': 'SASL_SSL', 'sasl.mechanism': 'PLAIN' };
    expect(message(() => resolve({}, sasl))).toContain('sasl.username');
    expect(resolve({ 'sasl.username': 'u', 'sasl.password': 'p' }, sasl).options).toMatchObject({
      'sasl.password': 'p',
    });
  });

  it('does not repeat the warnings of the cluster properties', () => {
    const cluster = { ...CLUSTER, 'queued.min.messages': '10' };
    expect(resolve({}, cluster).warnings).toEqual([]);
  });

  it('compares options by keys and values', () => {
    expect(sameOptions({ a: '1', b: '2' }, { b: '2', a: '1' })).toBe(true);
    expect(sameOptions({ a: '1' }, { a: '1', b: '2' })).toBe(false);
    expect(sameOptions({ a: '1' }, { a: '2' })).toBe(false);
  });
});
