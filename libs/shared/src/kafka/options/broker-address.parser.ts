/** librdkafka's `security.protocol` values. */
export type SecurityProtocol = 'plaintext' | 'ssl' | 'sasl_plaintext' | 'sasl_ssl';

export const SECURITY_PROTOCOLS: readonly SecurityProtocol[] = [
  'plaintext',
  'ssl',
  'sasl_plaintext',
  'sasl_ssl',
];

/** librdkafka's default broker port, used when an address leaves it out. */
export const DEFAULT_KAFKA_PORT = 9092;

export interface ParsedBrokerList {
  /** `host:port` addresses, scheme prefixes stripped, as kafkajs wants them. */
  brokers: string[];
  /** The protocol the `SSL://`-style prefixes ask for, when they ask for one. */
  impliedProtocol?: SecurityProtocol;
  /** Problems, each naming the offending entry; empty when the list is usable. */
  errors: string[];
}

const SCHEME = /^([A-Za-z_]+):\/\/(.*)$/;
const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::(\d+))?$/;

function isSecurityProtocol(value: string): value is SecurityProtocol {
  return (SECURITY_PROTOCOLS as readonly string[]).includes(value);
}

/** One `[PROTOCOL://]host[:port]` entry. */
function parseEntry(entry: string): { address: string; protocol?: SecurityProtocol } | string {
  const trimmed = entry.trim();
  const scheme = SCHEME.exec(trimmed);
  const protocol = scheme?.[1].toLowerCase();
  if (protocol !== undefined && !isSecurityProtocol(protocol)) {
    return `broker '${trimmed}' has an unknown scheme '${scheme?.[1]}://'; use PLAINTEXT://, SSL://, SASL_PLAINTEXT://, SASL_SSL:// or none`;
  }
  const hostPort = HOST_PORT.exec(scheme ? scheme[2] : trimmed);
  const port = Number(hostPort?.[2] ?? DEFAULT_KAFKA_PORT);
  if (!hostPort || port < 1 || port > 65535) {
    return `broker '${trimmed}' is not a host:port address (e.g. 'broker:9092')`;
  }
  return { address: `${hostPort[1]}:${port}`, protocol };
}

/**
 * Broker addresses as librdkafka takes them (Restate passes `PLAINTEXT://broker:9092` straight
 * through). kafkajs wants bare `host:port`, so the scheme is stripped; a secure scheme is returned
 * as the implied `security.protocol`, because that is what the user meant by writing it.
 */
export function parseBrokerList(entries: readonly string[]): ParsedBrokerList {
  const result: ParsedBrokerList = { brokers: [], errors: [] };
  const protocols = new Set<SecurityProtocol>();
  for (const entry of entries) {
    const parsed = parseEntry(entry);
    if (typeof parsed === 'string') {
      result.errors.push(parsed);
      continue;
    }
    result.brokers.push(parsed.address);
    if (parsed.protocol) protocols.add(parsed.protocol);
  }
  if (entries.length === 0) result.errors.push('the broker list is empty');
  if (protocols.size > 1) {
    const list = [...protocols].map((p) => `${p.toUpperCase()}://`).join(', ');
    result.errors.push(`brokers mix schemes (${list}); all brokers of a cluster use one protocol`);
  } else if (protocols.size === 1) {
    const [only] = protocols;
    if (only !== 'plaintext') result.impliedProtocol = only;
  }
  return result;
}

/** A comma-separated broker list (`bootstrap.servers`, `TRIBUTARY_BUS_BROKERS`). */
export function parseBrokerCsv(csv: string): ParsedBrokerList {
  const entries = csv
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  return parseBrokerList(entries);
}
