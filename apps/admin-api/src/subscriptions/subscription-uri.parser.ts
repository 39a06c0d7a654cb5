import { AdminError } from '../common/admin-error';

/** Restate's code for an invalid subscription; its messages carry it as a `[META0009]` prefix. */
export const INVALID_SUBSCRIPTION_CODE = 'META0009';

export interface KafkaSource {
  cluster: string;
  topic: string;
}

export interface ServiceSink {
  service: string;
  handler: string;
}

interface UriParts {
  scheme?: string;
  authority?: string;
  path: string;
  query?: string;
  fragment?: string;
}

// RFC 3986 appendix B, by hand rather than WHATWG URL: a cluster or service name is an opaque
// authority here, and URL would reject some (e.g. with spaces) with a misleading message.
const URI_SHAPE =
  /^(?:([A-Za-z][A-Za-z0-9+.-]*):)?(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/;

/** Kafka's own rule for topic names. */
const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;

function splitUri(uri: string): UriParts {
  const [, scheme, authority, path = '', query, fragment] = URI_SHAPE.exec(uri) ?? [];
  return { scheme: scheme?.toLowerCase(), authority, path, query, fragment };
}

function invalid(kind: 'source' | 'sink', uri: string, problem: string): AdminError {
  return AdminError.badRequest(
    `[${INVALID_SUBSCRIPTION_CODE}] invalid ${kind} URI '${uri}': ${problem}`,
    INVALID_SUBSCRIPTION_CODE,
  );
}

/** `kafka://<cluster>/<topic>`; throws Restate's META0009 errors, plus one for a bad topic. */
export function parseSourceUri(uri: string): KafkaSource {
  const parts = splitUri(uri);
  if (parts.scheme !== 'kafka') {
    throw invalid('source', uri, 'must have a scheme segment, with supported schemes: [kafka].');
  }
  if (!parts.authority) {
    throw invalid(
      'source',
      uri,
      'source URI of Kafka type must have a authority segment containing the cluster name.',
    );
  }
  const topic = parts.path.replace(/^\//, '');
  if (parts.query !== undefined || parts.fragment !== undefined || !isTopicName(topic)) {
    throw invalid(
      'source',
      uri,
      `the path must be one Kafka topic name (letters, digits, '.', '_', '-', at most 249 characters), e.g. kafka://${parts.authority}/orders.`,
    );
  }
  return { cluster: parts.authority, topic };
}

/** `service://<service>/<handler>`; an empty or nested handler path cannot name a handler. */
export function parseSinkUri(uri: string): ServiceSink {
  const parts = splitUri(uri);
  if (parts.scheme !== 'service') {
    throw invalid('sink', uri, 'must have a scheme segment, with supported schemes: [service].');
  }
  if (!parts.authority) {
    throw invalid(
      'sink',
      uri,
      'sink URI of service type must have a authority segment containing the service name.',
    );
  }
  const handler = parts.path.replace(/^\//, '');
  if (handler === '' || handler.includes('/') || parts.query !== undefined) {
    throw sinkNotFound(uri);
  }
  return { service: parts.authority, handler };
}

export function sinkNotFound(uri: string): AdminError {
  return invalid('sink', uri, 'cannot find service/handler specified in the sink URI.');
}

export function isTopicName(topic: string): boolean {
  return TOPIC_NAME.test(topic) && topic !== '.' && topic !== '..';
}
