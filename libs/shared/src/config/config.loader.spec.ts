import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ConfigError, formatConfigError } from './config.error';
import { loadConfig, loadConfigOrExit } from './config.loader';
import type { ConfigEnv, TributaryConfig } from './config.types';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tributary-config-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

let fixtureCount = 0;

/** Writes a TOML fixture and returns its path. */
function fixture(toml: string): string {
  const path = join(dir, `config-${++fixtureCount}.toml`);
  writeFileSync(path, toml);
  return path;
}

function load(toml: string | undefined, env: ConfigEnv = {}): TributaryConfig {
  const argv = toml === undefined ? [] : ['--config-file', fixture(toml)];
  return loadConfig({ argv, env });
}

/** The problems of a failing load, as `path: message` lines. */
function problemsOf(toml: string | undefined, env: ConfigEnv = {}): string[] {
  try {
    load(toml, env);
  } catch (error: unknown) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.path}: ${p.message}`);
    throw error;
  }
  throw new Error('expected the configuration to be rejected');
}

const SEED_SINGLE = `
[[ingress.kafka-clusters]]
name = "my-cluster"
brokers = ["PLAINTEXT://broker:9092"]
`;

describe('loadConfig: the seed examples', () => {
  it('reads a single cluster', () => {
    const config = load(SEED_SINGLE);
    expect(config.kafkaClusters).toEqual([
      {
        name: 'my-cluster',
        brokers: ['broker:9092'],
        properties: { 'bootstrap.servers': 'broker:9092' },
        source: 'config',
      },
    ]);
    expect(config.warnings).toEqual([]);
  });

  it('keeps extra librdkafka keys of a cluster as string properties', () => {
    const config = load(`
[[ingress.kafka-clusters]]
name = "my-cluster"
brokers = ["PLAINTEXT://broker:9092"]
"sasl.username" = "username"
"sasl.password" = "password"
"session.timeout.ms" = 45000
"allow.auto.create.topics" = false
`);
    expect(config.kafkaClusters[0].properties).toEqual({
      'sasl.username': 'username',
      'sasl.password': 'password',
      'session.timeout.ms': '45000',
      'allow.auto.create.topics': 'false',
      'bootstrap.servers': 'broker:9092',
    });
  });

  it('reads multiple clusters', () => {
    const config = load(`
[[ingress.kafka-clusters]]
name = "my-cluster-1"
brokers = ["PLAINTEXT://localhost:9092"]

[[ingress.kafka-clusters]]
name = "my-cluster-2"
brokers = ["PLAINTEXT://localhost:9093", "localhost:9094"]
`);
    expect(config.kafkaClusters.map((c) => [c.name, c.properties['bootstrap.servers']])).toEqual([
      ['my-cluster-1', 'localhost:9092'],
      ['my-cluster-2', 'localhost:9093,localhost:9094'],
    ]);
  });

  it('reads the cluster list from RESTATE_INGRESS__KAFKA_CLUSTERS', () => {
    const config = load(undefined, {
      RESTATE_INGRESS__KAFKA_CLUSTERS: '[{name="my-cluster",brokers=["PLAINTEXT://broker:9092"]}]',
    });
    expect(config.kafkaClusters).toEqual([
      {
        name: 'my-cluster',
        brokers: ['broker:9092'],
        properties: { 'bootstrap.servers': 'broker:9092' },
        source: 'config',
      },
    ]);
  });
});

describe('loadConfig: clusters', () => {
  it('takes security.protocol from a SASL_SSL:// prefix unless given', () => {
    const implied = load(`
[[ingress.kafka-clusters]]
name = "a"
brokers = ["SASL_SSL://broker:9093"]
`);
    expect(implied.kafkaClusters[0].properties['security.protocol']).toBe('sasl_ssl');
    const given = load(`
[[ingress.kafka-clusters]]
name = "a"
brokers = ["SSL://broker:9093"]
"security.protocol" = "SASL_SSL"
"sasl.mechanism" = "PLAIN"
"sasl.username" = "u"
"sasl.password" = "p"
`);
    expect(given.kafkaClusters[0].properties['security.protocol']).toBe('SASL_SSL');
  });

  it('flattens unquoted dotted keys back to librdkafka names', () => {
    const config = load(`${SEED_SINGLE}sasl.username = "u"\nclient.id = "me"\n`);
    expect(config.kafkaClusters[0].properties).toMatchObject({
      'sasl.username': 'u',
      'client.id': 'me',
    });
  });

  it('replaces the file list with the environment list, preferring the TRIBUTARY_ alias', () => {
    const config = load(SEED_SINGLE, {
      RESTATE_INGRESS__KAFKA_CLUSTERS: '[{name="restate",brokers=["r:9092"]}]',
      TRIBUTARY_INGRESS__KAFKA_CLUSTERS: '[{name="tributary",brokers=["t:9092"]}]',
    });
    expect(config.kafkaClusters.map((c) => c.name)).toEqual(['tributary']);
    expect(config.warnings).toEqual([
      'both RESTATE_INGRESS__KAFKA_CLUSTERS and TRIBUTARY_INGRESS__KAFKA_CLUSTERS are set; using TRIBUTARY_INGRESS__KAFKA_CLUSTERS',
      "TRIBUTARY_INGRESS__KAFKA_CLUSTERS replaces the config file's [[ingress.kafka-clusters]]",
    ]);
  });

  it('passes on warnings for librdkafka keys without an effect', () => {
    const config = load(`${SEED_SINGLE}"enable.auto.commit" = false\n`);
    expect(config.warnings).toEqual([
      "ingress.kafka-clusters[0]: option 'enable.auto.commit' is ignored: Tributary commits offsets itself, after the invocation of each record is durable",
    ]);
  });
});

describe('loadConfig: defaults', () => {
  it('runs on defaults without a file or environment', () => {
    expect(load(undefined)).toEqual({
      configFile: undefined,
      kafkaClusters: [],
      database: {
        url: 'postgres://postgres@127.0.0.1:5432/tributary',
        schema: undefined,
        shards: ['postgres://postgres@127.0.0.1:5432/tributary'],
      },
      admin: {
        bindAddress: '127.0.0.1:9070',
        tokens: [],
        maxBodyBytes: 1048576,
        maxManifestBytes: 4194304,
        deploymentHosts: [],
      },
      worker: {
        bindAddress: '127.0.0.1:9072',
        leaseTtlMs: 10_000,
        heartbeatIntervalMs: 2_000,
        maxRecordBytes: 1048576,
        id: undefined,
      },
      invoker: {
        bindAddress: '127.0.0.1:9071',
        concurrency: 256,
        requestTimeoutMs: 60_000,
        signingKey: undefined,
        leaseTtlMs: 10_000,
        maxResponseBytes: 33554432,
        id: undefined,
      },
      invocation: {
        retentionMs: 86_400_000,
        defaultRetryPolicy: {
          initialIntervalMs: 500,
          exponentiationFactor: 2,
          maxIntervalMs: 60_000,
          maxAttempts: 70,
          onMaxAttempts: 'pause',
        },
      },
      bus: {
        brokers: ['127.0.0.1:9092'],
        partitions: 16,
        replicationFactor: 1,
        topicPrefix: 'tributary',
      },
      tracing: { enabled: false, endpoint: undefined, serviceName: undefined },
      log: { format: 'text', level: 'info' },
      warnings: [],
    });
  });

  it('defaults bus.brokers to the first cluster, and warns when that cluster is secured', () => {
    expect(load(SEED_SINGLE).bus.brokers).toEqual(['broker:9092']);
    const secured = load(`
[[ingress.kafka-clusters]]
name = "a"
brokers = ["SSL://broker:9093"]
`);
    expect(secured.bus.brokers).toEqual(['broker:9093']);
    expect(secured.warnings).toEqual([
      "bus.brokers defaults to the brokers of cluster 'a', but the bus connects in plaintext, without that cluster's ssl settings; set bus.brokers",
    ]);
  });

  it('reads every setting from the file', () => {
    const config = load(`
[database]
url = "postgres://u:p@db:5432/x"
schema = "test_1"
[admin]
bind-address = "0.0.0.0:19070"
tokens = ["t1"]
max-body-bytes = 2048
max-manifest-bytes = 65536
deployment-hosts = ["handlers.internal", "10.0.0.5:9080", "*.svc.cluster.local", "[::1]:9080"]
[worker]
bind-address = "0.0.0.0:19072"
lease-ttl = "30s"
heartbeat-interval = "5s"
max-record-bytes = 4096
id = "worker-1"
[invoker]
bind-address = "0.0.0.0:19071"
concurrency = 8
request-timeout = "2m"
signing-key = "k"
lease-ttl = "20s"
max-response-bytes = 1024
id = "invoker-1"
[invocation]
retention = "1h30m"
[invocation.default-retry-policy]
initial-interval = "1s"
exponentiation-factor = 1.5
max-interval = "10s"
max-attempts = 3
on-max-attempts = "kill"
[bus]
brokers = ["PLAINTEXT://bus:9092"]
partitions = 4
replication-factor = 3
topic-prefix = "trib"
`);
    expect(config.database).toEqual({
      url: 'postgres://u:p@db:5432/x',
      schema: 'test_1',
      shards: ['postgres://u:p@db:5432/x'],
    });
    expect(config.admin).toEqual({
      bindAddress: '0.0.0.0:19070',
      tokens: ['t1'],
      maxBodyBytes: 2048,
      maxManifestBytes: 65536,
      deploymentHosts: ['handlers.internal', '10.0.0.5:9080', '*.svc.cluster.local', '[::1]:9080'],
    });
    expect(config.worker).toEqual({
      bindAddress: '0.0.0.0:19072',
      leaseTtlMs: 30_000,
      heartbeatIntervalMs: 5_000,
      maxRecordBytes: 4096,
      id: 'worker-1',
    });
    expect(config.invoker).toEqual({
      bindAddress: '0.0.0.0:19071',
      concurrency: 8,
      requestTimeoutMs: 120_000,
      signingKey: 'k',
      leaseTtlMs: 20_000,
      maxResponseBytes: 1024,
      id: 'invoker-1',
    });
    expect(config.invocation).toEqual({
      retentionMs: 5_400_000,
      defaultRetryPolicy: {
        initialIntervalMs: 1000,
        exponentiationFactor: 1.5,
        maxIntervalMs: 10_000,
        maxAttempts: 3,
        onMaxAttempts: 'kill',
      },
    });
    expect(config.bus).toEqual({
      brokers: ['bus:9092'],
      partitions: 4,
      replicationFactor: 3,
      minInsyncReplicas: 2,
      topicPrefix: 'trib',
    });
  });

  it('sets bus.min-insync-replicas to 2 from replication factor 3, and checks it against it', () => {
    expect(load('[bus]\nreplication-factor = 2\n').bus.minInsyncReplicas).toBeUndefined();
    expect(load('[bus]\nreplication-factor = 5\n').bus.minInsyncReplicas).toBe(2);
    expect(
      load('[bus]\nreplication-factor = 5\nmin-insync-replicas = 3\n').bus.minInsyncReplicas,
    ).toBe(3);
    expect(problemsOf('[bus]\nreplication-factor = 2\nmin-insync-replicas = 3\n')).toEqual([
      'bus.min-insync-replicas: must not exceed bus.replication-factor (2), or no write to the bus could ever be acknowledged',
    ]);
  });
});

describe('loadConfig: where the file comes from', () => {
  it('accepts --config-file=<path> and TRIBUTARY_CONFIG, the flag winning', () => {
    const fromFlag = fixture('[bus]\ntopic-prefix = "flag"\n');
    const fromEnv = fixture('[bus]\ntopic-prefix = "env"\n');
    const env = { TRIBUTARY_CONFIG: fromEnv };
    expect(loadConfig({ argv: [], env }).bus.topicPrefix).toBe('env');
    expect(loadConfig({ argv: [`--config-file=${fromFlag}`], env }).bus.topicPrefix).toBe('flag');
    expect(loadConfig({ argv: [`--config-file=${fromFlag}`], env }).configFile).toBe(fromFlag);
  });

  it('names a missing file and where it was asked for', () => {
    const path = join(dir, 'nope.toml');
    expect(() => loadConfig({ argv: ['node', 'main.js', '--config-file', path], env: {} })).toThrow(
      `--config-file: config file '${path}' does not exist`,
    );
    expect(() => loadConfig({ argv: [], env: { TRIBUTARY_CONFIG: path } })).toThrow(
      `TRIBUTARY_CONFIG: config file '${path}' does not exist`,
    );
  });

  it('needs a path after --config-file', () => {
    expect(() => loadConfig({ argv: ['--config-file'], env: {} })).toThrow(
      '--config-file: needs a path, e.g. --config-file tributary.toml',
    );
  });

  it('names the file, line and column of TOML that does not parse', () => {
    const path = fixture('[admin]\nbind-address = \n');
    expect(() => loadConfig({ argv: ['--config-file', path], env: {} })).toThrow(
      `${path}: not valid TOML at line 2, column 16: invalid value`,
    );
  });
});

describe('loadConfig: environment overrides', () => {
  it('overrides the file with DATABASE_URL and the bind addresses, signing key and bus brokers', () => {
    const config = load(
      '[database]\nurl = "postgres://file@db/x"\n[admin]\nbind-address = "1.2.3.4:1"\n',
      {
        DATABASE_URL: 'postgres://env@db/y',
        TRIBUTARY_ADMIN_BIND_ADDRESS: '0.0.0.0:9070',
        TRIBUTARY_WORKER_BIND_ADDRESS: '0.0.0.0:9072',
        TRIBUTARY_INVOKER_BIND_ADDRESS: '0.0.0.0:9071',
        TRIBUTARY_SIGNING_KEY: 'secret',
        TRIBUTARY_BUS_BROKERS: 'PLAINTEXT://k1:9092, k2:9092',
      },
    );
    expect(config.database.url).toBe('postgres://env@db/y');
    expect(config.admin.bindAddress).toBe('0.0.0.0:9070');
    expect(config.worker.bindAddress).toBe('0.0.0.0:9072');
    expect(config.invoker.bindAddress).toBe('0.0.0.0:9071');
    expect(config.invoker.signingKey).toBe('secret');
    expect(config.bus.brokers).toEqual(['k1:9092', 'k2:9092']);
  });

  it('replaces admin.tokens with TRIBUTARY_ADMIN_TOKENS, comma-separated, without echoing them', () => {
    const config = load('[admin]\ntokens = ["from-file"]\n', {
      TRIBUTARY_ADMIN_TOKENS: ' t1-secret-value , t2-secret-value\n',
    });
    expect(config.admin.tokens).toEqual(['t1-secret-value', 't2-secret-value']);
    // An empty item is refused rather than dropped: `,` must not become no tokens (an open API).
    for (const value of [' , ', 't1-secret-value,', 't1-secret-value,,t2']) {
      expect(problemsOf(undefined, { TRIBUTARY_ADMIN_TOKENS: value })).toEqual([
        'TRIBUTARY_ADMIN_TOKENS (admin.tokens): must be a list of non-empty strings, e.g. tokens = ["a-long-random-token"]',
      ]);
    }
  });

  it('treats empty variables as unset', () => {
    expect(load(undefined, { DATABASE_URL: '', TRIBUTARY_CONFIG: '' }).database.url).toBe(
      'postgres://postgres@127.0.0.1:5432/tributary',
    );
  });

  it('names the variable a bad value came from', () => {
    expect(
      problemsOf(undefined, {
        TRIBUTARY_ADMIN_BIND_ADDRESS: 'localhost',
        DATABASE_URL: 'mysql://x',
      }),
    ).toEqual([
      'DATABASE_URL (database.url): must be a postgres:// URL, e.g. "postgres://postgres@127.0.0.1:5432/tributary"',
      'TRIBUTARY_ADMIN_BIND_ADDRESS (admin.bind-address): must be "host:port", e.g. "0.0.0.0:9070"; got "localhost"',
    ]);
  });

  it('names the cluster variable when its TOML does not parse', () => {
    expect(
      problemsOf(undefined, { RESTATE_INGRESS__KAFKA_CLUSTERS: '[{name="a",brokers=[}]' }),
    ).toEqual([
      'RESTATE_INGRESS__KAFKA_CLUSTERS: not a valid TOML inline array at line 1, column 21: invalid value; expected e.g. [{name="my-cluster",brokers=["PLAINTEXT://broker:9092"]}]',
    ]);
  });

  it('reports an unparseable cluster variable together with every other problem', () => {
    expect(
      problemsOf('[bus]\npartitions = 0\n', {
        RESTATE_INGRESS__KAFKA_CLUSTERS: '[{name="a",brokers=[}]',
        TRIBUTARY_ADMIN_BIND_ADDRESS: 'nowhere',
      }),
    ).toEqual([
      expect.stringMatching(/^RESTATE_INGRESS__KAFKA_CLUSTERS: not a valid TOML inline array/),
      'TRIBUTARY_ADMIN_BIND_ADDRESS (admin.bind-address): must be "host:port", e.g. "0.0.0.0:9070"; got "nowhere"',
      'bus.partitions: must be a positive whole number; got 0',
    ]);
  });

  it('names the cluster variable in problems with its entries', () => {
    expect(
      problemsOf(undefined, { TRIBUTARY_INGRESS__KAFKA_CLUSTERS: '[{name="a",brokers="b:9092"}]' }),
    ).toEqual([
      'TRIBUTARY_INGRESS__KAFKA_CLUSTERS[0].brokers: must be a list of strings, e.g. brokers = ["PLAINTEXT://broker:9092"]; got "b:9092"',
    ]);
  });
});

describe('loadConfig: bad configuration', () => {
  it('rejects a cluster without a name', () => {
    expect(problemsOf('[[ingress.kafka-clusters]]\nbrokers = ["b:9092"]\n')).toEqual([
      'ingress.kafka-clusters[0].name: missing: every cluster needs a name, e.g. name = "my-cluster"',
    ]);
  });

  it('rejects brokers that are not a list', () => {
    expect(
      problemsOf(`${SEED_SINGLE}\n[[ingress.kafka-clusters]]\nname = "b"\nbrokers = "b:9092"\n`),
    ).toEqual([
      'ingress.kafka-clusters[1].brokers: must be a list of strings, e.g. brokers = ["PLAINTEXT://broker:9092"]; got "b:9092"',
    ]);
  });

  it('rejects a cluster without brokers, and an empty broker list', () => {
    expect(
      problemsOf(
        '[[ingress.kafka-clusters]]\nname = "a"\n[[ingress.kafka-clusters]]\nname = "b"\nbrokers = []\n',
      ),
    ).toEqual([
      'ingress.kafka-clusters[0].brokers: missing: list the brokers, e.g. brokers = ["PLAINTEXT://broker:9092"]',
      'ingress.kafka-clusters[1].brokers: the broker list is empty',
    ]);
  });

  it('rejects duplicate cluster names, naming both entries', () => {
    expect(problemsOf(`${SEED_SINGLE}${SEED_SINGLE}`)).toEqual([
      "ingress.kafka-clusters[1].name: duplicate cluster name 'my-cluster' (also used by ingress.kafka-clusters[0]); cluster names must be unique",
    ]);
  });

  it('rejects librdkafka keys librdkafka does not have, and bad values of known ones', () => {
    expect(
      problemsOf(`${SEED_SINGLE}"sesion.timeout.ms" = 1\n"fetch.min.bytes" = "lots"\n`),
    ).toEqual([
      "ingress.kafka-clusters[0]: unknown option 'sesion.timeout.ms': not a librdkafka configuration property; did you mean 'session.timeout.ms'?",
      "ingress.kafka-clusters[0]: option 'fetch.min.bytes' must be a non-negative integer; got 'lots'",
    ]);
  });

  it('rejects bootstrap.servers beside brokers, and property values that are not scalars', () => {
    expect(problemsOf(`${SEED_SINGLE}"bootstrap.servers" = "x:1"\n"client.id" = ["a"]\n`)).toEqual([
      'ingress.kafka-clusters[0]."client.id": must be a string, number or boolean (a librdkafka property value); got a list',
      `ingress.kafka-clusters[0]."bootstrap.servers": repeats what 'brokers' says; list the brokers in 'brokers' only`,
    ]);
  });

  it('rejects unknown sections and keys, suggesting the intended one', () => {
    expect(
      problemsOf(
        '[admn]\nx = 1\n[ingress]\nbind-address = "x"\n[admin]\nbind-adress = "0.0.0.0:1"\n',
      ),
    ).toEqual([
      "admn: unknown section; did you mean 'admin'? (known sections here: ingress, database, admin, worker, invoker, invocation, bus, tracing, log)",
      'ingress.bind-address: unknown key (known keys here: kafka-clusters)',
      "admin.bind-adress: unknown key; did you mean 'bind-address'? (known keys here: bind-address, tokens, max-body-bytes, max-manifest-bytes, deployment-hosts)",
    ]);
  });

  it('rejects camelCase keys instead of silently accepting them', () => {
    expect(problemsOf('[admin]\nbindAddress = "0.0.0.0:1"\n')).toEqual([
      "admin.bindAddress: unknown key; keys are kebab-case ('bind-address')",
    ]);
  });

  it('rejects a bad duration, naming the key', () => {
    expect(problemsOf('[worker]\nlease-ttl = "10 parsecs"\n')).toEqual([
      'worker.lease-ttl: must be a duration such as "500ms", "10s", "5m", "24h" or "1h30m"; got "10 parsecs"',
    ]);
  });

  it('rejects a deployment-hosts entry that is not a host', () => {
    expect(problemsOf('[admin]\ndeployment-hosts = ["[:::]"]\n')).toHaveLength(1);
    expect(problemsOf('[admin]\ndeployment-hosts = ["http://x"]\n')).toHaveLength(1);
  });

  it('rejects a bad on-max-attempts', () => {
    expect(problemsOf('[invocation.default-retry-policy]\non-max-attempts = "stop"\n')).toEqual([
      'invocation.default-retry-policy.on-max-attempts: must be "pause", "kill" or "dead-letter"; got "stop"',
    ]);
  });

  it('rejects a section that is not a table, and a retry policy that is not a table', () => {
    expect(problemsOf('admin = 3\n[invocation]\ndefault-retry-policy = "fast"\n')).toEqual([
      'admin: must be a table, e.g. [admin]',
      'invocation.default-retry-policy: must be a table, e.g. [invocation.default-retry-policy]',
    ]);
  });

  it('names every bad key at once, one per line', () => {
    const toml = `
[[ingress.kafka-clusters]]
brokers = ["b:9092"]

[worker]
heartbeat-interval = "soon"

[invoker]
concurrency = 0
`;
    const message = (() => {
      try {
        load(toml);
        return '';
      } catch (error: unknown) {
        return formatConfigError(error);
      }
    })();
    const lines = message.split('\n');
    expect(lines[0]).toMatch(
      /^invalid Tributary configuration \(config file .*\.toml\), 3 problems:$/,
    );
    expect(lines.slice(1)).toEqual([
      '  ingress.kafka-clusters[0].name: missing: every cluster needs a name, e.g. name = "my-cluster"',
      '  worker.heartbeat-interval: must be a duration such as "500ms", "10s", "5m", "24h" or "1h30m"; got "soon"',
      '  invoker.concurrency: must be a positive whole number; got 0',
    ]);
  });

  it('rejects settings that contradict each other', () => {
    expect(
      problemsOf(`
[worker]
lease-ttl = "5s"
heartbeat-interval = "5s"
[invocation.default-retry-policy]
initial-interval = "10s"
max-interval = "1s"
`),
    ).toEqual([
      'worker.heartbeat-interval: must be shorter than worker.lease-ttl (5000ms), or leases expire between heartbeats',
      'invocation.default-retry-policy.max-interval: must not be shorter than initial-interval (10000ms)',
    ]);
  });

  it('reads database.shards from the file or TRIBUTARY_DATABASE_SHARDS, and names a bad list', () => {
    const two = ['postgres://a@db-0/t', 'postgres://a@db-1/t'];
    expect(load(`[database]\nshards = ${JSON.stringify(two)}\n`).database.shards).toEqual(two);
    expect(load(undefined, { TRIBUTARY_DATABASE_SHARDS: two.join(',') }).database.shards).toEqual(
      two,
    );
    for (const bad of ['[]', '["mysql://x"]', '["postgres://a@db/t", "postgres://a@db/t"]']) {
      expect(problemsOf(`[database]\nshards = ${bad}\n`).join('\n')).toContain(
        'database.shards: must be a list of distinct postgres:// URLs, one per shard',
      );
    }
  });

  it('never echoes a database URL or signing key in a message', () => {
    const lines = problemsOf(
      '[database]\nurl = "http://u:hunter2@x"\n[invoker]\nsigning-key = ""\n',
    );
    expect(lines.join('\n')).not.toContain('hunter2');
    expect(lines[1]).toBe(
      'invoker.signing-key: must be a non-empty string; got a secret, not shown',
    );
  });
});

describe('loadConfig: invoker.request-identity-private-key-pem-file', () => {
  const pem = (type: 'ed25519' | 'x25519') =>
    (type === 'ed25519'
      ? generateKeyPairSync('ed25519')
      : generateKeyPairSync('x25519')
    ).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const keyFile = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('is unset by default and resolves a relative path against the working directory', () => {
    expect(load(undefined).invoker.requestIdentityPrivateKeyPemFile).toBeUndefined();
    const path = keyFile('identity.pem', pem('ed25519'));
    const config = load(
      `[invoker]\nrequest-identity-private-key-pem-file = "${relative(process.cwd(), path)}"\n`,
    );
    expect(config.invoker.requestIdentityPrivateKeyPemFile).toBe(path);
  });

  it('is read from TRIBUTARY_REQUEST_IDENTITY_PRIVATE_KEY_PEM_FILE', () => {
    const path = keyFile('identity-env.pem', pem('ed25519'));
    const config = load(undefined, { TRIBUTARY_REQUEST_IDENTITY_PRIVATE_KEY_PEM_FILE: path });
    expect(config.invoker.requestIdentityPrivateKeyPemFile).toBe(path);
  });

  it('names the setting and the file when the file is missing or not an Ed25519 key', () => {
    const missing = join(dir, 'no-such-key.pem');
    expect(problemsOf(`[invoker]\nrequest-identity-private-key-pem-file = "${missing}"\n`)).toEqual(
      [`invoker.request-identity-private-key-pem-file: the file '${missing}' does not exist`],
    );
    const x25519 = keyFile('x25519.pem', pem('x25519'));
    const [line] = problemsOf(undefined, {
      TRIBUTARY_REQUEST_IDENTITY_PRIVATE_KEY_PEM_FILE: x25519,
    });
    expect(line).toBe(
      `TRIBUTARY_REQUEST_IDENTITY_PRIVATE_KEY_PEM_FILE (invoker.request-identity-private-key-pem-file): '${x25519}' holds a key of type x25519, not Ed25519; expected one Ed25519 private key in PKCS#8 PEM form (-----BEGIN PRIVATE KEY-----), as made by 'openssl genpkey -algorithm ed25519'`,
    );
  });
});

describe('loadConfigOrExit', () => {
  it('returns the configuration when it is valid', () => {
    expect(loadConfigOrExit([], {}).bus.partitions).toBe(16);
  });

  it('prints the problems to stderr and exits with code 2', () => {
    const writes: string[] = [];
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      writes.push(String(chunk));
      return true;
    });
    const exit = jest.fn((code: number): never => {
      throw new Error(`exit ${code}`);
    });
    try {
      expect(() => loadConfigOrExit([], { DATABASE_URL: 'nope' }, exit)).toThrow('exit 2');
    } finally {
      spy.mockRestore();
    }
    expect(exit).toHaveBeenCalledWith(2);
    expect(writes.join('')).toContain('DATABASE_URL (database.url): must be a postgres:// URL');
  });
});

describe('loadConfig: [tracing] and [log]', () => {
  it('reads the tracing section and the log section', () => {
    const config = load(
      '[tracing]\nenabled = true\nendpoint = "http://collector:4318"\nservice-name = "orders-tributary"\n[log]\nformat = "json"\nlevel = "debug"\n',
    );
    expect(config.tracing).toEqual({
      enabled: true,
      endpoint: 'http://collector:4318',
      serviceName: 'orders-tributary',
    });
    expect(config.log).toEqual({ format: 'json', level: 'debug' });
  });

  it('writes JSON lines by default under NODE_ENV=production, and takes TRIBUTARY_LOG_* per process', () => {
    expect(load(undefined, { NODE_ENV: 'production' }).log.format).toBe('json');
    expect(load('[log]\nformat = "text"\n', { NODE_ENV: 'production' }).log.format).toBe('text');
    expect(
      load('[log]\nlevel = "warn"\n', {
        TRIBUTARY_LOG_LEVEL: 'trace',
        TRIBUTARY_LOG_FORMAT: 'json',
      }).log,
    ).toEqual({ format: 'json', level: 'trace' });
  });

  it('names bad tracing and log values', () => {
    expect(
      problemsOf(
        '[tracing]\nenabled = "yes"\nendpoint = "collector:4318"\nsampler = 1\n[log]\nformat = "xml"\n',
        { TRIBUTARY_LOG_LEVEL: 'loud' },
      ),
    ).toEqual([
      'tracing.sampler: unknown key (known keys here: enabled, endpoint, service-name)',
      'tracing.enabled: must be true or false (without quotes); got "yes"',
      'tracing.endpoint: must be an http:// or https:// URL, e.g. "http://127.0.0.1:4318"; got "collector:4318"',
      'log.format: must be "text" or "json"; got "xml"',
      'TRIBUTARY_LOG_LEVEL (log.level): must be "fatal", "error", "warn", "info", "debug" or "trace"; got "loud"',
    ]);
  });
});
