import { resolve } from 'node:path';
import { didYouMean, parseBrokerList } from '../kafka/options';
import { RequestIdentity, RequestIdentityKeyError } from '../restate/request-identity';
import { CONFIG_DEFAULTS } from './config.defaults';
import { ConfigError, ConfigProblem } from './config.error';
import {
  AdminSection,
  BusSection,
  CONFIG_SECTIONS,
  DatabaseSection,
  InvocationSection,
  InvokerSection,
  LogSection,
  RetryPolicySection,
  TracingSection,
  WorkerSection,
} from './config.sections';
import {
  applyEnvOverrides,
  chooseConfigFile,
  readConfigFile,
  readEnvClusters,
} from './config.sources';
import type {
  ConfigEnv,
  KafkaClusterConfig,
  LoadConfigInput,
  RetryPolicyConfig,
  TributaryConfig,
} from './config.types';
import { parseDuration } from './duration.parser';
import { parseKafkaClusters, ParsedClusters } from './kafka-clusters.parser';
import { isTable, TomlTable, validateSection } from './section.validator';

const TOP_LEVEL = ['ingress', ...Object.keys(CONFIG_SECTIONS)];
const INGRESS_KEYS = ['kafka-clusters'];

/** Durations have been validated by the time this runs. */
const ms = (duration: string): number => parseDuration(duration) as number;

interface Sources {
  tree: TomlTable;
  configFile?: string;
  clusters: ParsedClusters;
}

function checkKeys(table: TomlTable, known: string[], prefix: string, problems: ConfigProblem[]) {
  for (const key of Object.keys(table).filter((k) => !known.includes(k))) {
    const what = prefix === '' ? 'section' : 'key';
    problems.push({
      path: prefix + key,
      message: `unknown ${what}${didYouMean(key, known)} (known ${what}s here: ${known.join(', ')})`,
    });
  }
}

/**
 * The file (if any) and the environment's cluster list. Throws when the file cannot be read
 * (nothing else can be checked then); an unreadable cluster list in the environment is reported
 * with the other problems, the clusters taken as none.
 */
function readSources(argv: readonly string[], env: ConfigEnv, warnings: string[]): Sources {
  const problems: ConfigProblem[] = [];
  const choice = chooseConfigFile(argv, env);
  const file =
    choice.path !== undefined && choice.origin !== undefined
      ? readConfigFile({ path: choice.path, origin: choice.origin })
      : { tree: {} };
  const envClusters = readEnvClusters(env);
  warnings.push(...envClusters.warnings);
  for (const problem of [choice.problem, file.problem]) {
    if (problem) problems.push(problem);
  }
  if (problems.length > 0) throw new ConfigError(problems, sourceLabel(choice.path));
  const tree = file.tree ?? {};
  const ingress = isTable(tree.ingress) ? tree.ingress : {};
  const clusters: ParsedClusters = envClusters.problem
    ? { clusters: [], problems: [envClusters.problem], warnings: [] }
    : envClusters.label !== undefined
      ? parseKafkaClusters(envClusters.raw, envClusters.label)
      : parseKafkaClusters(ingress['kafka-clusters'], 'ingress.kafka-clusters');
  if (envClusters.label !== undefined && ingress['kafka-clusters'] !== undefined) {
    warnings.push(`${envClusters.label} replaces the config file's [[ingress.kafka-clusters]]`);
  }
  return { tree, configFile: choice.path, clusters };
}

function sourceLabel(configFile: string | undefined): string | undefined {
  return configFile === undefined ? undefined : `config file ${configFile}`;
}

function checkIngress(tree: TomlTable, problems: ConfigProblem[]): void {
  if (tree.ingress === undefined) return;
  if (!isTable(tree.ingress)) {
    problems.push({ path: 'ingress', message: 'must be a table, e.g. [[ingress.kafka-clusters]]' });
    return;
  }
  checkKeys(tree.ingress, INGRESS_KEYS, 'ingress.', problems);
}

function buildRetryPolicy(section: RetryPolicySection | undefined): RetryPolicyConfig {
  const d = CONFIG_DEFAULTS.invocation.defaultRetryPolicy;
  return {
    initialIntervalMs: ms(section?.initialInterval ?? d.initialInterval),
    exponentiationFactor: section?.exponentiationFactor ?? d.exponentiationFactor,
    maxIntervalMs: ms(section?.maxInterval ?? d.maxInterval),
    maxAttempts: section?.maxAttempts ?? d.maxAttempts,
    onMaxAttempts: section?.onMaxAttempts ?? d.onMaxAttempts,
  };
}

function busBrokers(
  section: BusSection,
  clusters: KafkaClusterConfig[],
  warnings: string[],
): string[] {
  if (section.brokers !== undefined) return parseBrokerList(section.brokers).brokers;
  const [first] = clusters;
  if (first === undefined) return [...CONFIG_DEFAULTS.bus.brokers];
  const protocol = first.properties['security.protocol'] ?? 'plaintext';
  if (protocol.toLowerCase() !== 'plaintext') {
    warnings.push(
      `bus.brokers defaults to the brokers of cluster '${first.name}', but the bus connects in plaintext, without that cluster's ${protocol} settings; set bus.brokers`,
    );
  }
  return [...first.brokers];
}

/** `bus.min-insync-replicas`, else 2 from replication factor 3 up (one broker may be down). */
function minInsyncReplicas(section: BusSection): number | undefined {
  if (section.minInsyncReplicas !== undefined) return section.minInsyncReplicas;
  const rf = section.replicationFactor ?? CONFIG_DEFAULTS.bus.replicationFactor;
  return rf >= 3 ? 2 : undefined;
}

interface ValidSections {
  database: DatabaseSection;
  admin: AdminSection;
  worker: WorkerSection;
  invoker: InvokerSection;
  invocation: InvocationSection;
  bus: BusSection;
  tracing: TracingSection;
  log: LogSection;
}

function build(
  s: ValidSections,
  sources: Sources,
  env: ConfigEnv,
  warnings: string[],
): TributaryConfig {
  const d = CONFIG_DEFAULTS;
  const clusters = sources.clusters.clusters;
  return {
    configFile: sources.configFile,
    kafkaClusters: clusters,
    database: {
      url: s.database.url ?? d.database.url,
      schema: s.database.schema,
      shards: s.database.shards ?? [s.database.url ?? d.database.url],
    },
    admin: {
      bindAddress: s.admin.bindAddress ?? d.admin.bindAddress,
      tokens: s.admin.tokens ?? [...d.admin.tokens],
      maxBodyBytes: s.admin.maxBodyBytes ?? d.admin.maxBodyBytes,
      maxManifestBytes: s.admin.maxManifestBytes ?? d.admin.maxManifestBytes,
      deploymentHosts: s.admin.deploymentHosts ?? [...d.admin.deploymentHosts],
    },
    worker: {
      bindAddress: s.worker.bindAddress ?? d.worker.bindAddress,
      leaseTtlMs: ms(s.worker.leaseTtl ?? d.worker.leaseTtl),
      heartbeatIntervalMs: ms(s.worker.heartbeatInterval ?? d.worker.heartbeatInterval),
      maxRecordBytes: s.worker.maxRecordBytes ?? d.worker.maxRecordBytes,
      id: s.worker.id,
    },
    invoker: {
      bindAddress: s.invoker.bindAddress ?? d.invoker.bindAddress,
      concurrency: s.invoker.concurrency ?? d.invoker.concurrency,
      requestTimeoutMs: ms(s.invoker.requestTimeout ?? d.invoker.requestTimeout),
      signingKey: s.invoker.signingKey,
      requestIdentityPrivateKeyPemFile:
        s.invoker.requestIdentityPrivateKeyPemFile === undefined
          ? undefined
          : resolve(s.invoker.requestIdentityPrivateKeyPemFile),
      leaseTtlMs: ms(s.invoker.leaseTtl ?? d.invoker.leaseTtl),
      maxResponseBytes: s.invoker.maxResponseBytes ?? d.invoker.maxResponseBytes,
      id: s.invoker.id,
    },
    invocation: {
      retentionMs: ms(s.invocation.retention ?? d.invocation.retention),
      defaultRetryPolicy: buildRetryPolicy(s.invocation.defaultRetryPolicy),
    },
    bus: {
      brokers: busBrokers(s.bus, clusters, warnings),
      partitions: s.bus.partitions ?? d.bus.partitions,
      replicationFactor: s.bus.replicationFactor ?? d.bus.replicationFactor,
      minInsyncReplicas: minInsyncReplicas(s.bus),
      topicPrefix: s.bus.topicPrefix ?? d.bus.topicPrefix,
    },
    tracing: {
      enabled: s.tracing.enabled ?? d.tracing.enabled,
      endpoint: s.tracing.endpoint,
      serviceName: s.tracing.serviceName,
    },
    log: {
      format: s.log.format ?? (env.NODE_ENV === 'production' ? 'json' : d.log.format),
      level: s.log.level ?? d.log.level,
    },
    warnings,
  };
}

/** Rules between settings, checked once each setting is valid on its own. */
function checkConsistency(config: TributaryConfig, problems: ConfigProblem[]): void {
  const { worker } = config;
  if (worker.heartbeatIntervalMs >= worker.leaseTtlMs) {
    problems.push({
      path: 'worker.heartbeat-interval',
      message: `must be shorter than worker.lease-ttl (${worker.leaseTtlMs}ms), or leases expire between heartbeats`,
    });
  }
  const { bus } = config;
  if (bus.minInsyncReplicas !== undefined && bus.minInsyncReplicas > bus.replicationFactor) {
    problems.push({
      path: 'bus.min-insync-replicas',
      message: `must not exceed bus.replication-factor (${bus.replicationFactor}), or no write to the bus could ever be acknowledged`,
    });
  }
  const policy = config.invocation.defaultRetryPolicy;
  if (policy.maxIntervalMs < policy.initialIntervalMs) {
    problems.push({
      path: 'invocation.default-retry-policy.max-interval',
      message: `must not be shorter than initial-interval (${policy.initialIntervalMs}ms)`,
    });
  }
}

/**
 * Files a setting names, read now so that a missing, unreadable or wrong one stops the app at
 * start rather than at its first request.
 */
function checkFiles(config: TributaryConfig, problems: ConfigProblem[]): void {
  const file = config.invoker.requestIdentityPrivateKeyPemFile;
  if (file === undefined) return;
  try {
    RequestIdentity.fromPemFile(file);
  } catch (e) {
    if (!(e instanceof RequestIdentityKeyError)) throw e;
    problems.push({ path: 'invoker.request-identity-private-key-pem-file', message: e.message });
  }
}

/** Names the variable a bad value came from: `TRIBUTARY_BUS_BROKERS (bus.brokers)`. */
function relabel(problem: ConfigProblem, origins: Map<string, string>): ConfigProblem {
  const variable = origins.get(problem.path);
  return variable === undefined ? problem : { ...problem, path: `${variable} (${problem.path})` };
}

/**
 * Loads Tributary's configuration: the TOML file from `--config-file` or TRIBUTARY_CONFIG (none:
 * defaults), environment overrides on top. Reads nothing but that file and the key file
 * `invoker.request-identity-private-key-pem-file` names; throws a ConfigError listing every
 * problem, one per line.
 */
export function loadConfig({ argv, env }: LoadConfigInput): TributaryConfig {
  const warnings: string[] = [];
  const sources = readSources(argv, env, warnings);
  const tree = { ...sources.tree };
  const origins = applyEnvOverrides(tree, env);
  const problems: ConfigProblem[] = [];
  checkKeys(tree, TOP_LEVEL, '', problems);
  checkIngress(tree, problems);
  problems.push(...sources.clusters.problems);
  warnings.push(...sources.clusters.warnings);
  const sections: ValidSections = {
    database: validateSection(DatabaseSection, tree.database, 'database', problems),
    admin: validateSection(AdminSection, tree.admin, 'admin', problems),
    worker: validateSection(WorkerSection, tree.worker, 'worker', problems),
    invoker: validateSection(InvokerSection, tree.invoker, 'invoker', problems),
    invocation: validateSection(InvocationSection, tree.invocation, 'invocation', problems),
    bus: validateSection(BusSection, tree.bus, 'bus', problems),
    tracing: validateSection(TracingSection, tree.tracing, 'tracing', problems),
    log: validateSection(LogSection, tree.log, 'log', problems),
  };
  if (problems.length === 0) {
    const config = build(sections, sources, env, warnings);
    checkConsistency(config, problems);
    checkFiles(config, problems);
    if (problems.length === 0) return config;
  }
  const labelled = problems.map((problem) => relabel(problem, origins));
  throw new ConfigError(labelled, sourceLabel(sources.configFile));
}

/** For an app's `main`: the configuration, or the problems on stderr and exit code 2. */
export function loadConfigOrExit(
  argv: readonly string[],
  env: ConfigEnv,
  exit: (code: number) => never = (code) => process.exit(code),
): TributaryConfig {
  try {
    const config = loadConfig({ argv, env });
    for (const warning of config.warnings) process.stderr.write(`config warning: ${warning}\n`);
    return config;
  } catch (error: unknown) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return exit(2);
  }
}
