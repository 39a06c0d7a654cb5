import { ReservedNames } from './reserved-names';

describe('ReservedNames', () => {
  const names = new ReservedNames('tributary');

  describe('topics', () => {
    it('refuses the bus topic, saying why', () => {
      expect(names.topicProblem('tributary.invocations.v1', 'source')).toBe(
        `topic 'tributary.invocations.v1' is Tributary's own invocation bus (bus.topic-prefix = "tributary"); subscribing to it would feed invocation commands, and invocations would feed back into themselves`,
      );
      expect(names.topicProblem('tributary.invocations.v1', 'dead-letter')).toContain(
        'dead-lettering into it would write failed records among invocation commands',
      );
    });

    it.each(['tributary.invocations.v2', 'tributary.control', 'tributary.'])(
      'refuses %s, under the bus prefix',
      (topic) => {
        expect(names.topicProblem(topic, 'source')).toContain(
          `is under 'tributary.', the prefix of Tributary's own bus topics (bus.topic-prefix = "tributary")`,
        );
      },
    );

    it.each(['__consumer_offsets', '__transaction_state', '__anything', '__'])(
      'refuses %s, internal to Kafka',
      (topic) => {
        expect(names.topicProblem(topic, 'source')).toContain('is internal to Kafka');
        expect(names.topicProblem(topic, 'dead-letter')).toContain('is internal to Kafka');
      },
    );

    it.each(['orders', 'tributary', 'tributary-orders', 'Tributary.invocations.v1', '_orders'])(
      'accepts %s',
      (topic) => {
        expect(names.topicProblem(topic, 'source')).toBeUndefined();
        expect(names.topicProblem(topic, 'dead-letter')).toBeUndefined();
      },
    );

    it('follows the configured prefix', () => {
      const other = new ReservedNames('acme.bus');
      expect(other.topicProblem('acme.bus.invocations.v1', 'source')).toContain(
        `invocation bus (bus.topic-prefix = "acme.bus")`,
      );
      expect(other.topicProblem('tributary.invocations.v1', 'source')).toBeUndefined();
    });
  });

  describe('consumer groups', () => {
    it("refuses the invokers' group, saying why", () => {
      expect(names.groupProblem('tributary.invocations.v1.invokers')).toBe(
        `group.id 'tributary.invocations.v1.invokers' is the consumer group of Tributary's invokers (bus.topic-prefix = "tributary"); a subscription joining it would take bus partitions away from the invokers, and the invocations of every subscription on those partitions would stop`,
      );
    });

    it.each([
      'tributary.invocations',
      'tributary.invocations.v2.invokers',
      'tributary.invocationsX',
    ])('refuses %s, under the internal group prefix', (group) => {
      expect(names.groupProblem(group)).toContain(
        `starts with 'tributary.invocations', reserved for Tributary's internal consumer groups`,
      );
    });

    it.each(['sub_1abc', 'orders-consumers', 'tributary.orders', 'invocations.v1.invokers'])(
      'accepts %s',
      (group) => {
        expect(names.groupProblem(group)).toBeUndefined();
      },
    );
  });
});
