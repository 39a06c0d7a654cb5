import { parseBrokerList, translateKafkaOptions } from '../kafka/options';
import type { ConfigProblem } from './config.error';
import type { KafkaClusterConfig } from './config.types';
import { describeValue, isStringList } from './config.validators';
import { isTable, TomlTable } from './section.validator';

const BROKERS_EXAMPLE = 'brokers = ["PLAINTEXT://broker:9092"]';
const BROKER_LIST_KEYS = ['bootstrap.servers', 'metadata.broker.list'];

export interface ParsedClusters {
  clusters: KafkaClusterConfig[];
  problems: ConfigProblem[];
  warnings: string[];
}

function parseName(entry: TomlTable, path: string, problems: ConfigProblem[]): string | undefined {
  const name = entry.name;
  if (name === undefined) {
    problems.push({
      path: `${path}.name`,
      message: 'missing: every cluster needs a name, e.g. name = "my-cluster"',
    });
  } else if (typeof name !== 'string' || !/^[A-Za-z0-9._-]+$/.test(name)) {
    problems.push({
      path: `${path}.name`,
      message: `must be a non-empty string of letters, digits, ".", "_" or "-" (it appears in kafka://<cluster>/<topic> URIs); got ${describeValue(name)}`,
    });
  } else {
    return name;
  }
  return undefined;
}

function parseBrokers(
  entry: TomlTable,
  path: string,
  problems: ConfigProblem[],
): ReturnType<typeof parseBrokerList> | undefined {
  const brokers = entry.brokers;
  if (brokers === undefined) {
    problems.push({
      path: `${path}.brokers`,
      message: `missing: list the brokers, e.g. ${BROKERS_EXAMPLE}`,
    });
    return undefined;
  }
  if (!isStringList(brokers)) {
    problems.push({
      path: `${path}.brokers`,
      message: `must be a list of strings, e.g. ${BROKERS_EXAMPLE}; got ${describeValue(brokers)}`,
    });
    return undefined;
  }
  const parsed = parseBrokerList(brokers);
  for (const error of parsed.errors) problems.push({ path: `${path}.brokers`, message: error });
  return parsed.errors.length === 0 ? parsed : undefined;
}

/**
 * librdkafka properties as strings. A key written unquoted (`sasl.username = "x"`) is a nested
 * table in TOML; it is flattened back to the dotted name the user meant.
 */
function collectProperties(
  table: TomlTable,
  prefix: string,
  path: string,
  problems: ConfigProblem[],
  out: Record<string, string>,
): Record<string, string> {
  for (const [key, value] of Object.entries(table)) {
    const name = prefix + key;
    if (prefix === '' && (name === 'name' || name === 'brokers')) continue;
    if (isTable(value)) {
      collectProperties(value, `${name}.`, path, problems, out);
    } else if (
      typeof value === 'string' ||
      typeof value === 'number' ||
      typeof value === 'boolean'
    ) {
      out[name] = String(value);
    } else {
      problems.push({
        path: `${path}."${name}"`,
        message: `must be a string, number or boolean (a librdkafka property value); got ${describeValue(value)}`,
      });
    }
  }
  return out;
}

function checkBrokerListKeys(
  props: Record<string, string>,
  path: string,
  problems: ConfigProblem[],
) {
  for (const key of BROKER_LIST_KEYS.filter((k) => k in props)) {
    problems.push({
      path: `${path}."${key}"`,
      message: `repeats what 'brokers' says; list the brokers in 'brokers' only`,
    });
  }
}

function parseEntry(entry: unknown, path: string, result: ParsedClusters): void {
  const { problems } = result;
  if (!isTable(entry)) {
    problems.push({
      path,
      message: `must be a table with name and brokers; got ${describeValue(entry)}`,
    });
    return;
  }
  const name = parseName(entry, path, problems);
  const brokers = parseBrokers(entry, path, problems);
  const properties = collectProperties(entry, '', path, problems, {});
  checkBrokerListKeys(properties, path, problems);
  if (brokers === undefined) return;
  properties['bootstrap.servers'] = brokers.brokers.join(',');
  if (brokers.impliedProtocol && !('security.protocol' in properties)) {
    properties['security.protocol'] = brokers.impliedProtocol;
  }
  const translation = translateKafkaOptions(properties, { scope: 'cluster' });
  for (const message of translation.errors) problems.push({ path, message });
  for (const warning of translation.warnings) result.warnings.push(`${path}: ${warning}`);
  if (name !== undefined) {
    result.clusters.push({ name, brokers: brokers.brokers, properties, source: 'config' });
  }
}

function checkUniqueNames(raw: unknown[], label: string, problems: ConfigProblem[]): void {
  const firstIndex = new Map<unknown, number>();
  raw.forEach((entry, index) => {
    const name = isTable(entry) ? entry.name : undefined;
    if (typeof name !== 'string') return;
    const first = firstIndex.get(name);
    if (first === undefined) {
      firstIndex.set(name, index);
      return;
    }
    problems.push({
      path: `${label}[${index}].name`,
      message: `duplicate cluster name '${name}' (also used by ${label}[${first}]); cluster names must be unique`,
    });
  });
}

/**
 * `[[ingress.kafka-clusters]]` entries (or the RESTATE_INGRESS__KAFKA_CLUSTERS array; `label`
 * names where they came from, for messages). Cluster properties are checked by the same
 * librdkafka translation subscriptions get, so a typo fails at start, not at first subscribe.
 */
export function parseKafkaClusters(raw: unknown, label: string): ParsedClusters {
  const result: ParsedClusters = { clusters: [], problems: [], warnings: [] };
  if (raw === undefined) return result;
  if (!Array.isArray(raw)) {
    result.problems.push({
      path: label,
      message: `must be a list of clusters, each a table with name and brokers; got ${describeValue(raw)}`,
    });
    return result;
  }
  raw.forEach((entry, index) => parseEntry(entry, `${label}[${index}]`, result));
  checkUniqueNames(raw, label, result.problems);
  return result;
}
