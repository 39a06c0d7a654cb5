import { AdminError } from '../common/admin-error';
import { parseSinkUri, parseSourceUri } from './subscription-uri.parser';

function failure(parse: () => unknown): { message: string; restateCode: string | null } {
  try {
    parse();
  } catch (err) {
    if (err instanceof AdminError) return { message: err.message, restateCode: err.restateCode };
    throw err;
  }
  throw new Error('expected a failure');
}

describe('source URI', () => {
  it('names a cluster and one topic', () => {
    expect(parseSourceUri('kafka://my-cluster/orders.v1')).toEqual({
      cluster: 'my-cluster',
      topic: 'orders.v1',
    });
    expect(parseSourceUri('KAFKA://MyCluster/Orders')).toEqual({
      cluster: 'MyCluster',
      topic: 'Orders',
    });
  });

  it.each([
    ['local/orders', 'must have a scheme segment, with supported schemes: [kafka].'],
    ['http://local/orders', 'must have a scheme segment, with supported schemes: [kafka].'],
    [
      'kafka:///orders',
      'source URI of Kafka type must have a authority segment containing the cluster name.',
    ],
    [
      'kafka:orders',
      'source URI of Kafka type must have a authority segment containing the cluster name.',
    ],
  ])("rejects '%s' with Restate's META0009 message", (uri, problem) => {
    expect(failure(() => parseSourceUri(uri))).toEqual({
      message: `[META0009] invalid source URI '${uri}': ${problem}`,
      restateCode: 'META0009',
    });
  });

  it.each([
    'kafka://local',
    'kafka://local/',
    'kafka://local/a/b',
    'kafka://local/a b',
    'kafka://local/..',
    'kafka://local/t?x=1',
  ])("rejects '%s': the path must be one topic name", (uri) => {
    expect(failure(() => parseSourceUri(uri)).message).toContain('must be one Kafka topic name');
  });

  it('rejects a topic name longer than Kafka allows', () => {
    expect(() => parseSourceUri(`kafka://local/${'t'.repeat(249)}`)).not.toThrow();
    expect(() => parseSourceUri(`kafka://local/${'t'.repeat(250)}`)).toThrow(AdminError);
  });
});

describe('sink URI', () => {
  it('names a service and a handler', () => {
    expect(parseSinkUri('service://Counter/add')).toEqual({ service: 'Counter', handler: 'add' });
  });

  it.each([
    ['Counter/add', 'must have a scheme segment, with supported schemes: [service].'],
    ['kafka://Counter/add', 'must have a scheme segment, with supported schemes: [service].'],
    [
      'service:///add',
      'sink URI of service type must have a authority segment containing the service name.',
    ],
    ['service://Counter', 'cannot find service/handler specified in the sink URI.'],
    ['service://Counter/', 'cannot find service/handler specified in the sink URI.'],
    ['service://Counter/add/more', 'cannot find service/handler specified in the sink URI.'],
  ])("rejects '%s' with Restate's META0009 message", (uri, problem) => {
    expect(failure(() => parseSinkUri(uri))).toEqual({
      message: `[META0009] invalid sink URI '${uri}': ${problem}`,
      restateCode: 'META0009',
    });
  });
});
