import { constants as bufferConstants } from 'node:buffer';
import http from 'node:http';
import https from 'node:https';
import { parseManifest } from './manifest.parser';
import { parseFailureBody, parseInvocationResponse } from './invocation-response.parser';
import { signRequest } from './protocol.signature';
import {
  EndpointManifest,
  InvocationRequest,
  InvokeFailure,
  HandlerOutcome,
} from './protocol.types';

export type DiscoveryFailureReason =
  | 'invalid-uri'
  | 'unreachable'
  | 'timeout'
  | 'http-status'
  | 'not-json'
  | 'not-manifest'
  | 'too-large';

/** Why a deployment could not be registered; `message` is meant for the operator as is. */
export class DiscoveryError extends Error {
  constructor(
    readonly reason: DiscoveryFailureReason,
    message: string,
    readonly status?: number,
    /** Nothing answered at all (refused, no such host, unreachable): no other protocol will. */
    readonly nothingAnswered = false,
  ) {
    super(message);
    this.name = 'DiscoveryError';
  }
}

/** Thrown by `invoke` when the caller's AbortSignal fired: the outcome is unknown, not a failure. */
export class InvokeAbortedError extends Error {
  constructor(readonly reason: unknown) {
    super('invocation request aborted by the invoker');
    this.name = 'AbortError';
  }
}

export interface HandlerClientOptions {
  /** Connections kept per deployment origin; unlimited by default (the invoker bounds concurrency). */
  connectionsPerOrigin?: number;
  connectTimeoutMs?: number;
  /**
   * Largest answer read, in bytes (32 MiB by default). Past it the connection is destroyed and
   * the call fails: an invocation with a retryable failure, a discovery with a DiscoveryError.
   */
  maxResponseBytes?: number;
  /** The setting `maxResponseBytes` comes from, named in the failure message. */
  maxResponseBytesSetting?: string;
}

export interface DiscoverOptions {
  /** The deployment's `additional_headers`. */
  headers?: Record<string, string>;
  timeoutMs?: number;
  signingKey?: string;
}

export interface InvokeOptions {
  /** Whole-request deadline; without it a request may wait as long as the handler takes. */
  timeoutMs?: number;
  signal?: AbortSignal;
  signingKey?: string;
  extraHeaders?: Record<string, string>;
}

const DEFAULT_DISCOVERY_TIMEOUT_MS = 10_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

interface Target {
  origin: string;
  /** `origin` parsed, for node:http. */
  url: URL;
  path: string;
  href: string;
}

const MAX_CACHED_TARGETS = 10_000;

interface SendRequest extends Target {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body: Buffer;
  timeoutMs?: number;
  signal?: AbortSignal;
}

interface RawResponse {
  status: number;
  body: string;
}

type TransportProblem =
  | { kind: 'aborted'; reason: unknown }
  | { kind: 'too-large' }
  | { kind: 'timeout' | 'unreachable' | 'connection'; detail: string };

class TransportError extends Error {
  constructor(readonly problem: TransportProblem) {
    super(problem.kind);
  }
}

/**
 * Speaks the handler protocol (docs/protocol.md) to deployments. A node:http keep-alive agent
 * keeps a pool of connections per deployment origin, so invocations reuse connections.
 */
export class HandlerClient {
  private readonly http: http.Agent;
  private readonly https: https.Agent;
  private readonly connectTimeoutMs: number;
  private readonly maxResponseBytes: number;
  /** The limit as failures name it, e.g. "65536 bytes (invoker.max-response-bytes)". */
  private readonly limitText: string;
  private readonly targets = new Map<string, Target>();

  constructor(options: HandlerClientOptions = {}) {
    const agentOptions = {
      keepAlive: true,
      maxSockets: options.connectionsPerOrigin ?? Infinity,
      scheduling: 'lifo' as const,
    };
    this.http = new http.Agent(agentOptions);
    this.https = new https.Agent(agentOptions);
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    // A UTF-8 body of n bytes decodes to at most n UTF-16 units: capped here, toString cannot
    // fail with ERR_STRING_TOO_LONG whatever the setting says.
    this.maxResponseBytes = Math.min(
      options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
      bufferConstants.MAX_STRING_LENGTH,
    );
    const setting = options.maxResponseBytesSetting;
    this.limitText = `${this.maxResponseBytes} bytes${setting ? ` (${setting})` : ''}`;
  }

  async discover(uri: string, options: DiscoverOptions = {}): Promise<EndpointManifest> {
    const target = discoveryTarget(uri);
    const timeoutMs = options.timeoutMs ?? DEFAULT_DISCOVERY_TIMEOUT_MS;
    const body = Buffer.alloc(0);
    const headers = {
      ...options.headers,
      accept: 'application/json',
      ...sign(options.signingKey, 'GET', target.path, body),
    };
    let response: RawResponse;
    try {
      response = await this.send({ ...target, method: 'GET', headers, body, timeoutMs });
    } catch (err) {
      throw discoveryTransportError(target.href, err, timeoutMs, this.limitText);
    }
    return manifestOf(target.href, response);
  }

  /**
   * Invokes one handler. Handler-side problems (failures, bad answers, unreachable deployment,
   * timeout) come back as a failure outcome; only an abort through `signal` rejects.
   */
  async invoke(
    deploymentUri: string,
    request: InvocationRequest,
    options: InvokeOptions = {},
  ): Promise<HandlerOutcome> {
    const target = this.invokeTarget(deploymentUri, request.service, request.handler);
    const body = Buffer.from(JSON.stringify(request));
    const headers = {
      ...options.extraHeaders,
      'content-type': 'application/json',
      accept: 'application/json',
      ...sign(options.signingKey, 'POST', target.path, body),
    };
    try {
      const response = await this.send({
        ...target,
        method: 'POST',
        headers,
        body,
        timeoutMs: options.timeoutMs,
        signal: options.signal,
      });
      return outcomeOf(target.href, response);
    } catch (err) {
      return transportFailure(target.href, err, options.timeoutMs, this.limitText);
    }
  }

  /** Resolved once per deployment and handler: the URL parsing is not per call. */
  private invokeTarget(deploymentUri: string, service: string, handler: string): Target {
    const cacheKey = `${deploymentUri}\u0000${service}\u0000${handler}`;
    let target = this.targets.get(cacheKey);
    if (!target) {
      const path = `/invoke/${encodeURIComponent(service)}/${encodeURIComponent(handler)}`;
      target = resolveTarget(deploymentUri, path);
      if (this.targets.size >= MAX_CACHED_TARGETS) this.targets.clear();
      this.targets.set(cacheKey, target);
    }
    return target;
  }

  /** Closes every pooled connection. */
  async close(): Promise<void> {
    this.http.destroy();
    this.https.destroy();
  }

  /**
   * One request over a pooled keep-alive connection. On a timeout or an abort the connection is
   * destroyed before this settles, so the handler sees its request end before any retry starts:
   * the invoker's no-overlap rule for exclusive handlers depends on that. (undici's abort does
   * not always close the connection; node:http's destroy does.) An answer larger than
   * `maxResponseBytes`, by its content-length or by the bytes counted as they arrive, destroys the
   * connection at once: no more than the limit is ever held.
   */
  private send(req: SendRequest): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      const url = req.url;
      const secure = url.protocol === 'https:';
      let problem: TransportProblem | undefined;
      let timer: NodeJS.Timeout | undefined;
      let connectTimer: NodeJS.Timeout | undefined;
      const request = (secure ? https : http).request({
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || (secure ? 443 : 80),
        path: req.path,
        method: req.method,
        headers: { ...req.headers, 'content-length': String(req.body.length) },
        agent: secure ? this.https : this.http,
      });
      const fail = (p: TransportProblem) => {
        problem ??= p;
        request.destroy();
      };
      const onAbort = () => fail({ kind: 'aborted', reason: req.signal?.reason });
      if (req.signal?.aborted) onAbort();
      req.signal?.addEventListener('abort', onAbort, { once: true });
      if (req.timeoutMs !== undefined) {
        timer = setTimeout(
          () => fail({ kind: 'timeout', detail: 'deadline exceeded' }),
          req.timeoutMs,
        );
      }
      request.on('socket', (socket) => {
        if (socket.connecting) {
          connectTimer = setTimeout(
            () => fail({ kind: 'timeout', detail: 'connect timeout' }),
            this.connectTimeoutMs,
          );
          socket.once('connect', () => clearTimeout(connectTimer));
        }
      });
      let response: RawResponse | undefined;
      request.on('response', (res) => {
        res.on('error', (err) => fail(classify(err)));
        const limit = this.maxResponseBytes;
        const declared = res.headers['content-length'];
        if (declared !== undefined && Number(declared) > limit) {
          fail({ kind: 'too-large' });
          return;
        }
        const chunks: Buffer[] = [];
        let received = 0;
        res.on('data', (c: Buffer) => {
          received += c.length;
          if (received > limit) fail({ kind: 'too-large' });
          else chunks.push(c);
        });
        res.on('end', () => {
          const body = Buffer.concat(chunks, received).toString('utf8');
          response = { status: res.statusCode ?? 0, body };
        });
      });
      request.on('error', (err) => {
        problem ??= classify(err);
      });
      // 'close' comes last, once the connection is released or destroyed.
      request.on('close', () => {
        clearTimeout(timer);
        clearTimeout(connectTimer);
        req.signal?.removeEventListener('abort', onAbort);
        if (response && !problem) resolve(response);
        else
          reject(
            new TransportError(problem ?? { kind: 'connection', detail: 'connection closed' }),
          );
      });
      request.end(req.body);
    });
  }
}

function sign(
  key: string | undefined,
  method: string,
  path: string,
  body: Buffer,
): Record<string, string> {
  return key ? signRequest(key, { method, path, body }) : {};
}

function resolveTarget(uri: string, suffix: string): Target {
  const url = new URL(uri);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`unsupported scheme '${url.protocol}' in '${uri}': use http or https`);
  }
  const path = url.pathname.replace(/\/+$/, '') + suffix;
  return { origin: url.origin, url: new URL(url.origin), path, href: url.origin + path };
}

function discoveryTarget(uri: string): Target {
  try {
    return resolveTarget(uri, '/discover');
  } catch (err) {
    throw new DiscoveryError('invalid-uri', `invalid deployment URI '${uri}': ${messageOf(err)}`);
  }
}

/**
 * The manifest in a discovery answer. Failures never quote the answer's bytes: the admin API
 * returns these messages to whoever registered the URI, which may point at any internal service.
 */
function manifestOf(href: string, response: RawResponse): EndpointManifest {
  if (response.status !== 200) {
    const hint = response.status === 401 ? ' (signature rejected: check the signing key)' : '';
    throw new DiscoveryError(
      'http-status',
      `${href} answered ${response.status}${hint}`,
      response.status,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(response.body);
  } catch {
    // The parser's message quotes the body: not a word of it goes back.
    throw new DiscoveryError('not-json', `${href} answered 200 with a body that is not JSON`);
  }
  try {
    return parseManifest(json);
  } catch (err) {
    throw new DiscoveryError(
      'not-manifest',
      `${href} answered an invalid manifest: ${messageOf(err)}`,
    );
  }
}

function outcomeOf(href: string, response: RawResponse): HandlerOutcome {
  if (response.status === 401) {
    // The deployment's own reason (a replay, an invoker too old) comes first when it gives one.
    const reason = parseFailureBody(tryJson(response.body))?.message;
    return retryable(
      401,
      `${href} rejected the request signature (401${reason ? `: ${reason}` : ''}): check that the invoker and the deployment share the same signing key`,
    );
  }
  if (response.status !== 200) {
    const failure = parseFailureBody(tryJson(response.body));
    const message = failure?.message ?? snippet(response.body);
    return retryable(response.status, `${href} answered ${response.status}: ${message}`);
  }
  try {
    return parseInvocationResponse(JSON.parse(response.body));
  } catch (err) {
    return retryable(502, `malformed answer from ${href}: ${messageOf(err)}`);
  }
}

function transportFailure(
  href: string,
  err: unknown,
  timeoutMs: number | undefined,
  limitText: string,
): InvokeFailure {
  if (!(err instanceof TransportError)) throw err;
  const problem = err.problem;
  switch (problem.kind) {
    case 'aborted':
      throw new InvokeAbortedError(problem.reason);
    case 'too-large':
      return retryable(502, tooLarge(href, limitText));
    case 'timeout':
      return retryable(504, `no answer from ${href} ${within(timeoutMs)}(${problem.detail})`);
    case 'unreachable':
      return retryable(503, `cannot reach ${href}: ${problem.detail}`);
    case 'connection':
      return retryable(502, `request to ${href} failed: ${problem.detail}`);
  }
}

function discoveryTransportError(
  href: string,
  err: unknown,
  timeoutMs: number,
  limitText: string,
): DiscoveryError {
  if (!(err instanceof TransportError)) throw err;
  const problem = err.problem;
  switch (problem.kind) {
    case 'too-large':
      return new DiscoveryError('too-large', tooLarge(href, limitText));
    case 'timeout':
    case 'aborted':
      return new DiscoveryError('timeout', `no answer from ${href} ${within(timeoutMs)}`.trim());
    case 'unreachable':
      return new DiscoveryError(
        'unreachable',
        `cannot reach ${href}: ${problem.detail}`,
        undefined,
        true,
      );
    case 'connection':
      return new DiscoveryError('unreachable', `cannot reach ${href}: ${problem.detail}`);
  }
}

function tooLarge(href: string, limitText: string): string {
  return `${href} answered more than ${limitText}; the answer was discarded`;
}

function retryable(code: number, message: string): InvokeFailure {
  return { kind: 'failure', terminal: false, message, code };
}

const UNREACHABLE: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found (DNS lookup failed)',
  EAI_AGAIN: 'host not found (DNS lookup failed, temporary)',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};
const TIMEOUTS: Record<string, string> = {
  ETIMEDOUT: 'connect timeout',
};

function classify(err: unknown): TransportProblem {
  for (const code of errorCodes(err)) {
    if (UNREACHABLE[code]) return { kind: 'unreachable', detail: UNREACHABLE[code] };
    if (TIMEOUTS[code]) return { kind: 'timeout', detail: TIMEOUTS[code] };
  }
  return { kind: 'connection', detail: messageOf(err) };
}

/** Node nests the useful code: in `cause`, or in `errors` when several addresses were tried. */
function errorCodes(err: unknown): string[] {
  if (typeof err !== 'object' || err === null) return [];
  const e = err as { code?: unknown; cause?: unknown; errors?: unknown };
  const own = typeof e.code === 'string' ? [e.code] : [];
  const nested = Array.isArray(e.errors) ? e.errors.flatMap(errorCodes) : [];
  return [...own, ...errorCodes(e.cause), ...nested];
}

function within(timeoutMs?: number): string {
  return timeoutMs !== undefined ? `within ${timeoutMs} ms ` : '';
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function snippet(body: string): string {
  const text = body.replace(/\s+/g, ' ').trim();
  if (text.length === 0) return '(empty body)';
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
