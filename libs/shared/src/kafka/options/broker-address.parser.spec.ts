import { parseBrokerCsv, parseBrokerList } from './broker-address.parser';

describe('parseBrokerList', () => {
  it('strips scheme prefixes and adds the default port', () => {
    expect(parseBrokerList(['PLAINTEXT://a:9092', 'b', '[::1]:9094'])).toEqual({
      brokers: ['a:9092', 'b:9092', '[::1]:9094'],
      errors: [],
    });
  });

  test.each([
    ['SSL://a:9093', 'ssl'],
    ['SASL_PLAINTEXT://a:9093', 'sasl_plaintext'],
    ['sasl_ssl://a:9093', 'sasl_ssl'],
  ])('%s implies security.protocol %s', (broker, protocol) => {
    expect(parseBrokerList([broker, 'b:1']).impliedProtocol).toBe(protocol);
  });

  it('does not imply anything for PLAINTEXT://', () => {
    expect(parseBrokerList(['PLAINTEXT://a:1']).impliedProtocol).toBeUndefined();
  });

  it('reports mixed schemes, unknown schemes, bad addresses and an empty list', () => {
    expect(parseBrokerList(['SSL://a:1', 'PLAINTEXT://b:1']).errors).toEqual([
      'brokers mix schemes (SSL://, PLAINTEXT://); all brokers of a cluster use one protocol',
    ]);
    expect(parseBrokerList(['a:99999', 'a b']).errors).toEqual([
      "broker 'a:99999' is not a host:port address (e.g. 'broker:9092')",
      "broker 'a b' is not a host:port address (e.g. 'broker:9092')",
    ]);
    expect(parseBrokerList([]).errors).toEqual(['the broker list is empty']);
  });

  it('splits comma-separated lists', () => {
    expect(parseBrokerCsv(' a:1 ,SSL://b:2,').brokers).toEqual(['a:1', 'b:2']);
  });
});
