// Discovery of a Restate endpoint: `GET {base}/discover`, asking for endpoint manifest v4, v3 or
// v2, first over HTTP/2 cleartext with prior knowledge and, if that transport fails before any
// answer, over HTTP/1.1. The manifest is validated against the shape of Restate's
// endpoint_manifest_schema.json and returned typed, with the transport that worked.
import { ExchangeError, RestateTransport, exchange } from './http-exchange';
import type { RequestSigner } from './request-identity';

export const ENDPOINT_MANIFEST_CONTENT_TYPES = {
  4: 'application/vnd.restate.endpointmanifest.v4+json',
  3: 'application/vnd.restate.endpointmanifest.v3+json',
  2: 'application/vnd.restate.endpointmanifest.v2+json',
} as const;
export type ManifestVersion = keyof typeof ENDPOINT_MANIFEST_CONTENT_TYPES;

export const DISCOVERY_ACCEPT = [4, 3, 2]
  .map((v) => ENDPOINT_MANIFEST_CONTENT_TYPES[v as ManifestVersion])
  .join(', ');

export type ServiceType = 'SERVICE' | 'VIRTUAL_OBJECT' | 'WORKFLOW';
export type HandlerType = 'WORKFLOW' | 'EXCLUSIVE' | 'SHARED';
export type ProtocolMode = 'BIDI_STREAM' | 'REQUEST_RESPONSE';

export interface InputPayload {
  required?: boolean;
  contentType?: string;
  jsonSchema?: unknown;
}

export interface OutputPayload {
  contentType?: string;
  setContentTypeIfEmpty?: boolean;
  jsonSchema?: unknown;
}

/** Options a service or a handler may carry; durations in milliseconds. Most need manifest v3+. */
export interface InvocationOptions {
  documentation?: string;
  metadata?: Record<string, string>;
  inactivityTimeout?: number;
  abortTimeout?: number;
  journalRetention?: number;
  idempotencyRetention?: number;
  enableLazyState?: boolean;
  ingressPrivate?: boolean;
  /** Retry policy fields: manifest v4 only. */
  retryPolicyInitialInterval?: number;
  retryPolicyMaxInterval?: number;
  retryPolicyMaxAttempts?: number;
  retryPolicyExponentiationFactor?: number;
  retryPolicyOnMaxAttempts?: 'PAUSE' | 'KILL';
}

export interface HandlerManifest extends InvocationOptions {
  name: string;
  /** Unset for plain services; defaults to EXCLUSIVE for objects, WORKFLOW for workflows. */
  ty?: HandlerType;
  input?: InputPayload;
  output?: OutputPayload;
  workflowCompletionRetention?: number;
}

export interface ServiceManifest extends InvocationOptions {
  name: string;
  ty: ServiceType;
  handlers: HandlerManifest[];
}

export interface EndpointManifest {
  protocolMode?: ProtocolMode;
  minProtocolVersion: number;
  maxProtocolVersion: number;
  lambdaCompression?: 'zstd';
  services: ServiceManifest[];
}

export interface DiscoveryResult {
  manifest: EndpointManifest;
  /** The manifest version the endpoint chose, from its content-type. */
  manifestVersion: ManifestVersion;
  transport: RestateTransport;
  /** The endpoint's `x-restate-server` header (SDK name/version), if sent. */
  server?: string;
}

export interface DiscoverOptions {
  /** Per transport attempt. Default 10 s. */
  timeoutMs?: number;
  /** Largest manifest accepted, in bytes. Default 4 MiB. */
  maxBytes?: number;
  /** Transports to try, in order. Default HTTP/2 then HTTP/1.1. */
  transports?: RestateTransport[];
  /** Extra request headers (e.g. for a gateway in front of the endpoint). */
  headers?: Record<string, string>;
  /**
   * Signs the request as Restate's server does (`x-restate-signature-scheme: v1` and
   * `x-restate-jwt-v1` with `aud` = `/discover`), for endpoints started with `identityKeys`.
   */
  identity?: RequestSigner;
  /** Overrides the Accept header; for tests of refusal. */
  accept?: string;
  signal?: AbortSignal;
}

/** One transport's try, kept for the error message. */
export interface DiscoveryAttempt {
  transport: RestateTransport;
  outcome: string;
}

export class DiscoveryError extends Error {
  override readonly name = 'DiscoveryError';
  constructor(
    message: string,
    readonly url: string,
    readonly attempts: DiscoveryAttempt[],
    /** HTTP status of the answer that ended discovery, if it was an HTTP answer. */
    readonly status?: number,
    /** A Restate SDK endpoint answered 401: it requires request identity and did not get one it
     * accepts (an unsigned request, or one signed by a key it does not list). */
    readonly identityRefused = false,
  ) {
    super(message);
  }
}

export class ManifestValidationError extends Error {
  override readonly name = 'ManifestValidationError';
}

/** `{base}/discover`, keeping any path prefix of the base URL. */
export function endpointUrl(baseUrl: string, path: string): URL {
  const base = new URL(baseUrl);
  const prefix = base.pathname.replace(/\/+$/, '');
  return new URL(`${prefix}/${path.replace(/^\/+/, '')}`, base.origin);
}

/** The path discovery is signed for (relative to the endpoint, whatever its URL prefix). */
export const DISCOVER_PATH = '/discover';

/**
 * Why a Restate SDK endpoint (it sends `x-restate-server`) answered 401: it was started with
 * `identityKeys` and the request was unsigned or signed by a key it does not list. Empty for other
 * statuses and other servers.
 */
export function unauthorizedHint(
  status: number,
  headers: Record<string, string | undefined>,
  identity: RequestSigner | undefined,
): string {
  if (status !== 401 || headers['x-restate-server'] === undefined) return '';
  return identity === undefined
    ? ': the endpoint requires request identity (it was started with identityKeys) and this request was not signed'
    : `: the endpoint requires request identity and did not accept this one (${identity.publicKeyV1()}); add it to the endpoint's identityKeys`;
}

export async function discoverEndpoint(
  baseUrl: string,
  options: DiscoverOptions = {},
): Promise<DiscoveryResult> {
  const url = endpointUrl(baseUrl, DISCOVER_PATH);
  const transports = options.transports ?? ['http2', 'http1'];
  const accept = options.accept ?? DISCOVERY_ACCEPT;
  const attempts: DiscoveryAttempt[] = [];
  const fail = (what: string, status?: number, identityRefused = false): never => {
    const tried = attempts.map((a) => `${a.transport}: ${a.outcome}`).join('; ');
    throw new DiscoveryError(
      `discovery at ${url.href} ${what} (tried ${tried})`,
      url.href,
      attempts,
      status,
      identityRefused,
    );
  };

  for (const transport of transports) {
    let res;
    try {
      res = await exchange(
        transport,
        {
          method: 'GET',
          url,
          headers: {
            ...options.headers,
            // Signed per try: the JWT is valid for a minute around the time it was made.
            ...options.identity?.identityHeaders(DISCOVER_PATH),
            accept,
          },
        },
        {
          timeoutMs: options.timeoutMs ?? 10_000,
          maxBytes: options.maxBytes ?? 4 * 1024 * 1024,
          signal: options.signal,
          // A one-shot connection: a deployment is discovered once, then invoked (pooled).
          pooled: false,
        },
      );
    } catch (e) {
      const err = e instanceof ExchangeError ? e : undefined;
      attempts.push({ transport, outcome: e instanceof Error ? e.message : String(e) });
      // Try the next transport only if this one never got an HTTP answer and was not stopped
      // on purpose: a status line means the endpoint speaks this transport.
      if (err && err.status === undefined && err.kind !== 'aborted' && err.kind !== 'too-large') {
        continue;
      }
      return fail('failed', err?.status);
    }

    const contentType = res.headers['content-type'] ?? '';
    if (res.status !== 200) {
      attempts.push({
        transport,
        // Never a byte of the body: discovery must not read arbitrary URLs for its caller.
        outcome: `answered ${res.status} (${contentType || 'no content-type'})`,
      });
      const hint = unauthorizedHint(res.status, res.headers, options.identity);
      return fail(`was refused with ${res.status}${hint}`, res.status, hint !== '');
    }
    const manifestVersion = manifestVersionOf(contentType);
    if (manifestVersion === undefined) {
      attempts.push({ transport, outcome: `answered 200 with content-type '${contentType}'` });
      return fail(`answered with a content-type that is not one asked for in '${accept}'`, 200);
    }
    let json: unknown;
    try {
      json = JSON.parse(res.body.toString('utf8'));
    } catch {
      // JSON.parse's own message quotes the body: say only that it is not JSON.
      attempts.push({ transport, outcome: `answered 200 ${contentType}, but not JSON` });
      return fail('answered with an invalid manifest', 200);
    }
    let manifest: EndpointManifest;
    try {
      manifest = parseEndpointManifest(json);
    } catch (e) {
      attempts.push({
        transport,
        outcome: `answered 200 ${contentType}, but: ${(e as Error).message}`,
      });
      return fail('answered with an invalid manifest', 200);
    }
    return { manifest, manifestVersion, transport, server: res.headers['x-restate-server'] };
  }
  return fail('found no transport that answered');
}

function manifestVersionOf(contentType: string): ManifestVersion | undefined {
  const mediaType = contentType.split(';')[0].trim().toLowerCase();
  for (const [v, ct] of Object.entries(ENDPOINT_MANIFEST_CONTENT_TYPES)) {
    if (ct === mediaType) return Number(v) as ManifestVersion;
  }
  return undefined;
}

// --- Validation -------------------------------------------------------------------------------

type Obj = Record<string, unknown>;

const SERVICE_NAME = /^([a-zA-Z]|_[a-zA-Z0-9])[a-zA-Z0-9._-]*$/;
const HANDLER_NAME = /^([a-zA-Z]|_[a-zA-Z0-9])[a-zA-Z0-9_]*$/;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[], where: string): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new ManifestValidationError(
      `${where} must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`,
    );
  }
  return v as T;
}

function optional<T>(
  o: Obj,
  key: string,
  read: (v: unknown, where: string) => T,
  where: string,
): T | undefined {
  return o[key] === undefined || o[key] === null ? undefined : read(o[key], `${where}.${key}`);
}

function str(v: unknown, where: string): string {
  if (typeof v !== 'string') throw new ManifestValidationError(`${where} must be a string`);
  return v;
}

function bool(v: unknown, where: string): boolean {
  if (typeof v !== 'boolean') throw new ManifestValidationError(`${where} must be a boolean`);
  return v;
}

function nonNegInt(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new ManifestValidationError(`${where} must be a non-negative integer`);
  }
  return v;
}

function num(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new ManifestValidationError(`${where} must be a number`);
  }
  return v;
}

function stringMap(v: unknown, where: string): Record<string, string> {
  if (!isObj(v)) throw new ManifestValidationError(`${where} must be an object`);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) out[k] = str(val, `${where}.${k}`);
  return out;
}

/** Copies only the keys that are set, so absent stays absent. */
function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function invocationOptions(o: Obj, where: string): InvocationOptions {
  return {
    documentation: optional(o, 'documentation', str, where),
    metadata: optional(o, 'metadata', stringMap, where),
    inactivityTimeout: optional(o, 'inactivityTimeout', nonNegInt, where),
    abortTimeout: optional(o, 'abortTimeout', nonNegInt, where),
    journalRetention: optional(o, 'journalRetention', nonNegInt, where),
    idempotencyRetention: optional(o, 'idempotencyRetention', nonNegInt, where),
    enableLazyState: optional(o, 'enableLazyState', bool, where),
    ingressPrivate: optional(o, 'ingressPrivate', bool, where),
    retryPolicyInitialInterval: optional(o, 'retryPolicyInitialInterval', nonNegInt, where),
    retryPolicyMaxInterval: optional(o, 'retryPolicyMaxInterval', nonNegInt, where),
    retryPolicyMaxAttempts: optional(o, 'retryPolicyMaxAttempts', nonNegInt, where),
    retryPolicyExponentiationFactor: optional(o, 'retryPolicyExponentiationFactor', num, where),
    retryPolicyOnMaxAttempts: optional(
      o,
      'retryPolicyOnMaxAttempts',
      (v, w) => oneOf(v, ['PAUSE', 'KILL'] as const, w),
      where,
    ),
  };
}

function handler(v: unknown, where: string): HandlerManifest {
  if (!isObj(v)) throw new ManifestValidationError(`${where} must be an object`);
  const name = str(v.name, `${where}.name`);
  if (!HANDLER_NAME.test(name))
    throw new ManifestValidationError(`${where}.name '${name}' is not a valid handler name`);
  const input = optional(
    v,
    'input',
    (i, w) => {
      if (!isObj(i)) throw new ManifestValidationError(`${w} must be an object`);
      return compact<InputPayload>({
        required: optional(i, 'required', bool, w),
        contentType: optional(i, 'contentType', str, w),
        jsonSchema: i.jsonSchema,
      });
    },
    where,
  );
  const output = optional(
    v,
    'output',
    (o, w) => {
      if (!isObj(o)) throw new ManifestValidationError(`${w} must be an object`);
      return compact<OutputPayload>({
        contentType: optional(o, 'contentType', str, w),
        setContentTypeIfEmpty: optional(o, 'setContentTypeIfEmpty', bool, w),
        jsonSchema: o.jsonSchema,
      });
    },
    where,
  );
  return compact<HandlerManifest>({
    name,
    ty: optional(
      v,
      'ty',
      (t, w) => oneOf(t, ['WORKFLOW', 'EXCLUSIVE', 'SHARED'] as const, w),
      where,
    ),
    input,
    output,
    ...invocationOptions(v, where),
    workflowCompletionRetention: optional(v, 'workflowCompletionRetention', nonNegInt, where),
  });
}

function service(v: unknown, where: string): ServiceManifest {
  if (!isObj(v)) throw new ManifestValidationError(`${where} must be an object`);
  const name = str(v.name, `${where}.name`);
  if (!SERVICE_NAME.test(name))
    throw new ManifestValidationError(`${where}.name '${name}' is not a valid service name`);
  const where2 = `services[${name}]`;
  if (!Array.isArray(v.handlers))
    throw new ManifestValidationError(`${where2}.handlers must be an array`);
  const handlers = v.handlers.map((h, i) => handler(h, `${where2}.handlers[${i}]`));
  const seen = new Set<string>();
  for (const h of handlers) {
    if (seen.has(h.name))
      throw new ManifestValidationError(`${where2} lists handler '${h.name}' twice`);
    seen.add(h.name);
  }
  return compact<ServiceManifest>({
    name,
    ty: oneOf(v.ty, ['SERVICE', 'VIRTUAL_OBJECT', 'WORKFLOW'] as const, `${where2}.ty`),
    handlers,
    ...invocationOptions(v, where2),
  });
}

/** Validates a parsed manifest; throws ManifestValidationError naming the first bad field. */
export function parseEndpointManifest(json: unknown): EndpointManifest {
  if (!isObj(json)) throw new ManifestValidationError('manifest must be a JSON object');
  const minProtocolVersion = nonNegInt(json.minProtocolVersion, 'minProtocolVersion');
  const maxProtocolVersion = nonNegInt(json.maxProtocolVersion, 'maxProtocolVersion');
  if (minProtocolVersion < 1 || maxProtocolVersion < minProtocolVersion) {
    throw new ManifestValidationError(
      `protocol versions must satisfy 1 <= min <= max, got min ${minProtocolVersion}, max ${maxProtocolVersion}`,
    );
  }
  if (!Array.isArray(json.services)) throw new ManifestValidationError('services must be an array');
  const services = json.services.map((s, i) => service(s, `services[${i}]`));
  const seen = new Set<string>();
  for (const s of services) {
    if (seen.has(s.name)) throw new ManifestValidationError(`service '${s.name}' is listed twice`);
    seen.add(s.name);
  }
  return compact<EndpointManifest>({
    protocolMode: optional(
      json,
      'protocolMode',
      (v, w) => oneOf(v, ['BIDI_STREAM', 'REQUEST_RESPONSE'] as const, w),
      'manifest',
    ),
    minProtocolVersion,
    maxProtocolVersion,
    lambdaCompression: optional(
      json,
      'lambdaCompression',
      (v, w) => oneOf(v, ['zstd'] as const, w),
      'manifest',
    ),
    services,
  });
}
