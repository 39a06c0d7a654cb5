import { constants as bufferConstants } from 'node:buffer';
import http from 'node:http';
import https from 'node:https';
import { parseManifest } from './manifest.parser';
import { parseFailureBody, parseInvocationResponse } from './invocation-response.parser';
import { signRequest } from './protocol.signature';
import {
  EndpointManifest,
  NDJSON_CONTENT_TYPE,
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
  /**
   * The deployment serves `POST /invoke-batch` (protocol version 2): invocations of it started in
   * the same turn of the event loop, with the same signing key and headers, share one request.
   */
  batch?: boolean;
}

/** Invocations sent in one batch request at most; more make several requests. */
export const MAX_BATCH = 64;
/**
 * JSON characters a batch is filled up to (a few MiB at most, whatever the text); an invocation
 * this large or larger goes alone. Far below a deployment's request limit (the SDK's default is
 * 32 MiB): a batch is never refused as too large where its invocations one by one would not be.
 */
export const MAX_BATCH_BYTES = 1024 * 1024;

/** One invocation waiting in a batch. */
interface BatchMember {
  request: InvocationRequest;
  /** `request` as JSON. */
  json: string;
  options: InvokeOptions;
  resolve: (outcome: HandlerOutcome) => void;
  reject: (err: unknown) => void;
}

/** Invocations of one deployment gathered in this turn of the event loop. */
interface PendingBatch {
  deploymentUri: string;
  members: BatchMember[];
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
  /** The deployment's `/invoke-batch`. */
  batchPath: string;
}

const MAX_CACHED_TARGETS = 10_000;

interface SendRequest extends Target {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body: Buffer;
  timeoutMs?: number;
  signal?: AbortSignal;
  /**
   * A 200 answer is read line by line (a batch): each line goes here as it arrives, and the limit
   * applies to each line. A problem returned ends the request.
   */
  onLine?: (line: string, tooLarge: boolean) => TransportProblem | undefined;
}

interface RawResponse {
  status: number;
  body: string;
  /** Read line by line (`onLine`): `body` is empty. */
  lines?: boolean;
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
  private readonly batches = new Map<string, PendingBatch>();

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
    if (options.batch && !options.signal?.aborted) {
      return new Promise((resolve, reject) => {
        const key = `${deploymentUri}\u0000${options.signingKey ?? ''}\u0000${JSON.stringify(options.extraHeaders ?? {})}`;
        let batch = this.batches.get(key);
        if (!batch) {
          const created: PendingBatch = { deploymentUri, members: [] };
          this.batches.set(key, created);
          setImmediate(() => {
            this.batches.delete(key);
            this.dispatch(created);
          });
          batch = created;
        }
        batch.members.push({ request, json: JSON.stringify(request), options, resolve, reject });
      });
    }
    return this.invokeOne(deploymentUri, request, options);
  }

  private async invokeOne(
    deploymentUri: string,
    request: InvocationRequest,
    options: InvokeOptions,
    json = JSON.stringify(request),
  ): Promise<HandlerOutcome> {
    const target = this.invokeTarget(deploymentUri, request.service, request.handler);
    const body = Buffer.from(json);
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

  /**
   * Sends what a turn of the event loop gathered, in order: in batches of at most MAX_BATCH
   * invocations and MAX_BATCH_BYTES, or alone (a large one, or one left over).
   */
  private dispatch(batch: PendingBatch): void {
    const { deploymentUri } = batch;
    const send = (chunk: BatchMember[]) => {
      if (chunk.length === 1) {
        const [m] = chunk;
        this.invokeOne(deploymentUri, m.request, m.options, m.json).then(m.resolve, m.reject);
      } else if (chunk.length > 1) {
        this.invokeBatch(deploymentUri, chunk).catch((err: unknown) => {
          for (const m of chunk) m.reject(err);
        });
      }
    };
    let chunk: BatchMember[] = [];
    let bytes = 0;
    for (const m of batch.members) {
      if (m.json.length >= MAX_BATCH_BYTES) {
        send([m]);
        continue;
      }
      if (chunk.length === MAX_BATCH || bytes + m.json.length > MAX_BATCH_BYTES) {
        send(chunk);
        chunk = [];
        bytes = 0;
      }
      chunk.push(m);
      bytes += m.json.length;
    }
    send(chunk);
  }

  /**
   * One `POST /invoke-batch` for several invocations; each settles as its own line arrives, or
   * alone when its signal fires (InvokeAbortedError) or its answer is too large (502). Nothing one
   * invocation does ends the request for the others. The request ends for all that are not
   * answered yet at the first deadline among them (504 each) or when the connection breaks (502
   * each), as their single requests would.
   */
  private async invokeBatch(deploymentUri: string, members: BatchMember[]): Promise<void> {
    const options = members[0].options;
    const target = this.invokeTarget(deploymentUri, '', '');
    const hrefOf = (m: BatchMember) =>
      this.invokeTarget(deploymentUri, m.request.service, m.request.handler).href;
    const body = Buffer.from(`{"requests":[${members.map((m) => m.json).join(',')}]}`);
    const headers = {
      ...options.extraHeaders,
      'content-type': 'application/json',
      accept: NDJSON_CONTENT_TYPE,
      ...sign(options.signingKey, 'POST', target.batchPath, body),
    };
    const answered = new Set<number>();
    const controller = new AbortController();
    // One invocation's abort (a kill, a pause, its lease lost) settles that one alone: the request
    // goes on for the others, and its answer line, if one comes, is ignored. Ending the request
    // would hand the others back to run again while the deployment may still be running them.
    // Only when every member is settled is the request itself ended.
    const unhooks = members.map((m, i) => {
      const signal = m.options.signal;
      if (!signal) return () => undefined;
      const onAbort = () => {
        if (answered.has(i)) return;
        answered.add(i);
        m.reject(new InvokeAbortedError(signal.reason));
        if (answered.size === members.length) controller.abort();
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      return () => signal.removeEventListener('abort', onAbort);
    });
    const timeouts = members.map((m) => m.options.timeoutMs).filter((t) => t !== undefined);
    const timeoutMs = timeouts.length > 0 ? Math.min(...timeouts) : undefined;
    const onLine = (line: string, cutOff: boolean): TransportProblem | undefined => {
      if (cutOff) {
        // The deployment writes `index` first: enough to tell whose answer it is. That one fails
        // as a single answer this large would; the rest of its line is skipped, the others go on.
        const index = Number(/^\{"index":(\d+)/.exec(line)?.[1]);
        if (!members[index]) return { kind: 'too-large' };
        if (!answered.has(index)) {
          answered.add(index);
          members[index].resolve(retryable(502, tooLarge(hrefOf(members[index]), this.limitText)));
        }
        return undefined;
      }
      let parsed: { index?: unknown; status?: unknown; body?: unknown };
      try {
        parsed = JSON.parse(line) as typeof parsed;
      } catch {
        return { kind: 'connection', detail: 'malformed batch answer line (not JSON)' };
      }
      const { index, status } = parsed;
      if (typeof index !== 'number' || typeof status !== 'number' || !members[index]) {
        return { kind: 'connection', detail: 'malformed batch answer line' };
      }
      if (answered.has(index)) return undefined; // aborted meanwhile: its answer comes too late
      answered.add(index);
      members[index].resolve(outcomeOfJson(hrefOf(members[index]), status, parsed.body));
      return undefined;
    };
    try {
      const response = await this.send({
        ...target,
        path: target.batchPath,
        method: 'POST',
        headers,
        body,
        timeoutMs,
        signal: controller.signal,
        onLine,
      });
      // Not a batch answer at all (a 401, a 413, a proxy's error): each gets what it says.
      for (const [i, m] of members.entries()) {
        if (!answered.has(i)) {
          m.resolve(
            response.lines
              ? retryable(502, `${hrefOf(m)}: the batch answer had no line for it`)
              : outcomeOf(hrefOf(m), response),
          );
        }
      }
    } catch (err) {
      // The deadline, a broken connection, a malformed answer: each one not answered yet fails as
      // its own request would have (every member is settled already when the request was aborted).
      for (const [i, m] of members.entries()) {
        if (answered.has(i)) continue;
        try {
          m.resolve(transportFailure(hrefOf(m), err, timeoutMs, this.limitText));
        } catch (e) {
          m.reject(e);
        }
      }
    } finally {
      unhooks.forEach((u) => u());
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
        if (req.onLine && res.statusCode === 200) {
          const onLine = req.onLine;
          let partial = '';
          /** The rest of a line over the limit, already reported, is read and dropped. */
          let skipping = false;
          res.setEncoding('utf8');
          res.on('data', (text: string) => {
            partial += text;
            let nl: number;
            while ((nl = partial.indexOf('\n')) >= 0) {
              const line = partial.slice(0, nl);
              partial = partial.slice(nl + 1);
              if (skipping) {
                skipping = false;
                continue;
              }
              // One answer larger than the limit (counted in characters: never more than its bytes).
              const p = line.length === 0 ? undefined : onLine(line, line.length > limit);
              if (p) return fail(p);
            }
            if (skipping) {
              partial = '';
            } else if (partial.length > limit) {
              const p = onLine(partial, true);
              if (p) return fail(p);
              skipping = true;
              partial = '';
            }
          });
          res.on('end', () => {
            const p = partial.length > 0 ? onLine(partial, false) : undefined;
            if (p) fail(p);
            else response = { status: 200, body: '', lines: true };
          });
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
  const base = url.pathname.replace(/\/+$/, '');
  const path = base + suffix;
  return {
    origin: url.origin,
    url: new URL(url.origin),
    path,
    href: url.origin + path,
    batchPath: `${base}/invoke-batch`,
  };
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

/** A batch answer line's status and body, read as `outcomeOf` reads a single answer. */
function outcomeOfJson(href: string, status: number, body: unknown): HandlerOutcome {
  if (status !== 200) return outcomeOf(href, { status, body: JSON.stringify(body ?? null) });
  try {
    return parseInvocationResponse(body);
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
