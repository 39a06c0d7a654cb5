import { buildKafkaConfig, buildTlsOptions, TlsFileReader } from './kafka-config.builder';
import { translateKafkaOptions } from './kafka-options.translator';

describe('buildKafkaConfig', () => {
  const reads: string[] = [];
  const fakeReader: TlsFileReader = (path) => {
    reads.push(path);
    return [Buffer.from(`contents of ${path}`)];
  };

  beforeEach(() => {
    reads.length = 0;
  });

  it('does not read TLS files while translating, only when the client is built', () => {
    const t = translateKafkaOptions({
      'bootstrap.servers': 'SSL://a:9093',
      'ssl.ca.location': '/ca.pem',
      'ssl.certificate.location': '/cert.pem',
      'ssl.key.location': '/key.pem',
      'ssl.key.password': 'pw',
      'enable.ssl.certificate.verification': 'false',
    });
    expect(reads).toEqual([]);
    const config = buildKafkaConfig(t.client, fakeReader);
    expect(reads).toEqual(['/ca.pem', '/cert.pem', '/key.pem']);
    expect(config.brokers).toEqual(['a:9093']);
    expect(config.ssl).toMatchObject({
      ca: [Buffer.from('contents of /ca.pem')],
      cert: [Buffer.from('contents of /cert.pem')],
      key: [{ pem: Buffer.from('contents of /key.pem'), passphrase: 'pw' }],
      rejectUnauthorized: false,
    });
  });

  it('uses ssl: true when TLS is on without any ssl.* files, and no ssl for plaintext', () => {
    const tls = translateKafkaOptions({ 'bootstrap.servers': 'a:1', 'security.protocol': 'ssl' });
    expect(buildKafkaConfig(tls.client, fakeReader).ssl).toBe(true);
    const plain = translateKafkaOptions({ 'bootstrap.servers': 'a:1', 'client.id': 'c' });
    expect(buildKafkaConfig(plain.client, fakeReader)).toEqual({ brokers: ['a:1'], clientId: 'c' });
  });

  it('skips hostname checks for ssl.endpoint.identification.algorithm=none', () => {
    const options = buildTlsOptions({ verifyHostname: false, caPem: 'PEM' }, fakeReader);
    expect(options.ca).toEqual(['PEM']);
    expect(options.checkServerIdentity?.('host', {} as never)).toBeUndefined();
  });

  it('refuses to build a client without brokers', () => {
    expect(() => buildKafkaConfig({}, fakeReader)).toThrow('no Kafka brokers configured');
  });
});
