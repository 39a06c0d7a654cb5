import { mergeKafkaOptions } from './kafka-options.merge';
import { translateKafkaOptions } from './kafka-options.translator';

describe('mergeKafkaOptions', () => {
  it('lets subscription options override cluster properties', () => {
    expect(
      mergeKafkaOptions(
        { 'bootstrap.servers': 'a:1', 'group.id': 'cluster', 'client.id': 'c' },
        { 'group.id': 'sub' },
      ),
    ).toEqual({ 'bootstrap.servers': 'a:1', 'group.id': 'sub', 'client.id': 'c' });
  });

  it('replaces an earlier alias of the same property, so the result translates cleanly', () => {
    const merged = mergeKafkaOptions(
      { 'bootstrap.servers': 'a:1', 'sasl.mechanisms': 'PLAIN' },
      { 'metadata.broker.list': 'b:2', 'sasl.mechanism': 'SCRAM-SHA-256' },
    );
    expect(merged).toEqual({ 'metadata.broker.list': 'b:2', 'sasl.mechanism': 'SCRAM-SHA-256' });
    expect(translateKafkaOptions(merged, { scope: 'subscription' }).errors).toEqual([]);
  });
});
