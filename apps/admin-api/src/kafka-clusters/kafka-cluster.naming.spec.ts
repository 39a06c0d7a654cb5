import { isKafkaClusterName } from './kafka-cluster.naming';

describe('isKafkaClusterName', () => {
  it.each(['local', 'my-cluster', 'prod.eu_1', 'A9'])('accepts %s', (name) => {
    expect(isKafkaClusterName(name)).toBe(true);
  });

  it.each(['', 'has space', 'a/b', 'kafka://x', 'ü', 'x'.repeat(256), '.', '..'])(
    'rejects %j',
    (name) => {
      expect(isKafkaClusterName(name)).toBe(false);
    },
  );
});
