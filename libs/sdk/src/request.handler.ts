import { IncomingMessage, ServerResponse } from 'node:http';
import { runInvocation } from './invocation.runner';
import { parseInvocationRequest } from './invocation-request.parser';
import { buildManifest } from './manifest.builder';
import { NonceCache } from './nonce.cache';
import {
  CheckedHeaders,
  SignatureHeaders,
  SIGNATURE_TOLERANCE_MS,
  assertSigningKey,
  bodySignatureProblem,
  headerProblem,
} from './signing';
import { HandlerSpec, ServiceDefinition, resolveHandlers } from './service.definitions';
import {
  BatchAnswerLine,
  NDJSON_CONTENT_TYPE,
  NONCE_HEADER,
  SIGNATURE_HEADER,
  SIGNATURE_V2_HEADER,
  SIGNING_KEY_ENV,
  TIMESTAMP_HEADER,
} from './protocol';

/** As the invoker's default `invoker.max-response-bytes` for the answers. */
export const DEFAULT_MAX_REQUEST_BYTES = 32 * 1024 * 1024;
/** About 330 signed requests a second, sustained over the 5 minute window; some 10 MB. */
export const DEFAULT_MAX_NONCES = 100_000;

export interface RequestHandlerOptions {
  /**
   * Verify the invoker's signature with this key; defaults to env TRIBUTARY_SIGNING_KEY. An
   * empty or whitespace-only key is refused (TypeError).
   */
  signingKey?: string;
  /**
   * Largest request body read, in bytes (default 32 MiB). A larger declared content-length is
   * answered 413 before reading; a streamed body is cut off once past it, also with 413.
   */
  maxRequestBytes?: number;
  /**
   * With a signing key: how many request nonces are remembered within the 5 minute window to
   * refuse replays (default 100 000). Past it, signed requests are answered 503 (retryable)
   * until older nonces expire, rather than forgetting nonces that could then be replayed.
   */
  maxNonces?: number;
}

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

type Route =
  { kind: 'discover' } | { kind: 'batch' } | { kind: 'invoke'; service: string; handler: string };

// Matched at the end of the path so the endpoint also works mounted under a prefix.
const DISCOVER = /\/discover$/;
const INVOKE = /\/invoke\/([^/]+)\/([^/]+)$/;
const BATCH = /\/invoke-batch$/;

/** A node:http listener serving the handler protocol (docs/protocol.md) for `services`. */
export function createRequestHandler(
  services: readonly ServiceDefinition[],
  options: RequestHandlerOptions = {},
): RequestListener {
  const specs = indexHandlers(services);
  const manifest = JSON.stringify(buildManifest(services, resolveHandlers));
  const signingKey = resolveSigningKey(options.signingKey);
  const maxBytes = positiveInteger(
    'maxRequestBytes',
    options.maxRequestBytes,
    DEFAULT_MAX_REQUEST_BYTES,
  );
  const maxNonces = positiveInteger('maxNonces', options.maxNonces, DEFAULT_MAX_NONCES);
  const nonces = new NonceCache(maxNonces, SIGNATURE_TOLERANCE_MS);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = requestPath(req);
    const method = req.method ?? 'GET';
    // Everything that can be refused without the body is refused before reading it.
    let signed: CheckedHeaders | undefined;
    if (signingKey) {
      const headers = signatureHeaders(req);
      const problem = headerProblem(headers);
      if (problem) return refuseUnread(req, res, 401, `signature rejected: ${problem}`);
      signed = headers as CheckedHeaders;
    }
    const declared = Number(req.headers['content-length']);
    if (declared > maxBytes) {
      return refuseUnread(req, res, 413, tooLarge(`of ${declared} bytes`, maxBytes));
    }
    const body = await readBody(req, maxBytes);
    if (!body) return refuseUnread(req, res, 413, tooLarge('', maxBytes));
    if (signingKey && signed) {
      const problem = bodySignatureProblem(signingKey, signed, { method, path, body });
      if (problem) return fail(res, 401, false, `signature rejected: ${problem}`);
      const claim = nonces.claim(signed.nonce, Number(signed.timestamp));
      if (claim === 'replayed') {
        return fail(res, 401, false, 'signature rejected: replayed request (nonce already used)');
      }
      if (claim === 'full') {
        return fail(
          res,
          503,
          false,
          `too many signed requests within the 5 minute window to remember their nonces (maxNonces ${maxNonces}): retry later`,
        );
      }
    }
    const route = matchRoute(path);
    if (!route) {
      return fail(
        res,
        404,
        true,
        `no route for ${path}: use GET /discover, POST /invoke/{service}/{handler} or POST /invoke-batch`,
      );
    }
    if (route.kind === 'discover') {
      return method === 'GET'
        ? send(res, 200, manifest)
        : fail(res, 405, true, 'use GET /discover');
    }
    if (method !== 'POST') return fail(res, 405, true, 'use POST to invoke a handler');
    if (route.kind === 'batch') return invokeBatch(specs, body, res);
    const spec = specs.get(`${route.service}/${route.handler}`);
    if (!spec) {
      return fail(
        res,
        404,
        true,
        `handler '${route.service}/${route.handler}' not found on this deployment`,
      );
    }
    await invoke(spec, body, res);
  };

  return (req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) fail(res, 500, false, `handler endpoint error: ${String(err)}`);
      else res.destroy();
    });
  };
}

function resolveSigningKey(given: string | undefined): string | undefined {
  if (given !== undefined) {
    assertSigningKey(given);
    return given;
  }
  const fromEnv = process.env[SIGNING_KEY_ENV];
  if (fromEnv === undefined || fromEnv === '') return undefined; // unset, as shells make easy
  try {
    assertSigningKey(fromEnv);
  } catch (err) {
    throw new TypeError(`${SIGNING_KEY_ENV}: ${(err as Error).message}`);
  }
  return fromEnv;
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new TypeError(`${name} must be a positive integer; got ${String(value)}`);
  }
  return value;
}

function tooLarge(size: string, maxBytes: number): string {
  const what = size ? `request body ${size}` : 'request body';
  return `${what} exceeds the limit of ${maxBytes} bytes (maxRequestBytes)`;
}

async function invoke(spec: HandlerSpec, body: Buffer, res: ServerResponse): Promise<void> {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (err) {
    return fail(res, 400, false, `request body is not JSON: ${String(err)}`);
  }
  const request = parseInvocationRequest(json);
  if (typeof request === 'string') return fail(res, 400, false, `bad invoke request: ${request}`);
  send(res, 200, JSON.stringify(await runInvocation(spec, request)));
}

/**
 * Several invocations in one request (protocol version 2): all run at once, and each one's answer
 * is written as a line of its own as soon as it ends, so a slow one holds up none of the others.
 * A request that is not a batch at all is refused as a whole (400), like a bad single request.
 */
async function invokeBatch(
  specs: Map<string, HandlerSpec>,
  body: Buffer,
  res: ServerResponse,
): Promise<void> {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (err) {
    return fail(res, 400, false, `request body is not JSON: ${String(err)}`);
  }
  const requests = (json as { requests?: unknown } | null)?.requests;
  if (!Array.isArray(requests) || requests.length === 0) {
    return fail(res, 400, false, "bad batch request: 'requests' must be a non-empty array");
  }
  res.writeHead(200, { 'content-type': NDJSON_CONTENT_TYPE });
  await Promise.all(
    requests.map(async (raw: unknown, index) => {
      const line: BatchAnswerLine = { index, ...(await answerOne(specs, raw)) };
      // The invoker may have closed the request meanwhile (an abort): nothing to tell it.
      if (!res.destroyed) res.write(`${JSON.stringify(line)}\n`);
    }),
  );
  res.end();
}

/** What `POST /invoke/{service}/{handler}` would answer for one request of a batch. */
async function answerOne(
  specs: Map<string, HandlerSpec>,
  raw: unknown,
): Promise<Omit<BatchAnswerLine, 'index'>> {
  const request = parseInvocationRequest(raw);
  if (typeof request === 'string') {
    return failureAnswer(400, false, `bad invoke request: ${request}`);
  }
  const spec = specs.get(`${request.service}/${request.handler}`);
  if (!spec) {
    return failureAnswer(
      404,
      true,
      `handler '${request.service}/${request.handler}' not found on this deployment`,
    );
  }
  try {
    return { status: 200, body: await runInvocation(spec, request) };
  } catch (err) {
    return failureAnswer(500, false, `handler endpoint error: ${String(err)}`);
  }
}

function failureAnswer(
  status: number,
  terminal: boolean,
  message: string,
): Omit<BatchAnswerLine, 'index'> {
  return { status, body: { ok: false, failure: { terminal, message, code: status } } };
}

function indexHandlers(services: readonly ServiceDefinition[]): Map<string, HandlerSpec> {
  const specs = new Map<string, HandlerSpec>();
  const names = new Set<string>();
  for (const def of services) {
    if (names.has(def.name)) throw new TypeError(`service '${def.name}' is bound twice`);
    names.add(def.name);
    for (const spec of resolveHandlers(def)) specs.set(`${spec.service}/${spec.name}`, spec);
  }
  return specs;
}

function matchRoute(path: string): Route | undefined {
  const pathname = path.split('?', 1)[0];
  if (DISCOVER.test(pathname)) return { kind: 'discover' };
  if (BATCH.test(pathname)) return { kind: 'batch' };
  const m = INVOKE.exec(pathname);
  if (!m) return undefined;
  try {
    return { kind: 'invoke', service: decodeURIComponent(m[1]), handler: decodeURIComponent(m[2]) };
  } catch {
    return undefined; // malformed percent-encoding
  }
}

/** The path the invoker signed: Express-style mounts strip their prefix from `url`. */
function requestPath(req: IncomingMessage): string {
  return (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/';
}

function signatureHeaders(req: IncomingMessage): SignatureHeaders {
  const header = (name: string) => {
    const v = req.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  return {
    timestamp: header(TIMESTAMP_HEADER),
    nonce: header(NONCE_HEADER),
    signatureV1: header(SIGNATURE_HEADER),
    signatureV2: header(SIGNATURE_V2_HEADER),
  };
}

/** The body, or undefined once it grows past `maxBytes` (reading stops there). */
function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        done();
        req.pause();
        return resolve(undefined);
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      done();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      done();
      reject(err);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/**
 * Answers without reading the rest of the body: the connection is closed once the answer is
 * sent, instead of node:http reading (and discarding) whatever the client still sends.
 */
function refuseUnread(req: IncomingMessage, res: ServerResponse, status: number, message: string) {
  if (!req.complete) {
    res.shouldKeepAlive = false;
    res.once('finish', () => req.socket.destroy());
  }
  fail(res, status, false, message);
}

function fail(res: ServerResponse, status: number, terminal: boolean, message: string): void {
  send(res, status, JSON.stringify(failureAnswer(status, terminal, message).body));
}

function send(res: ServerResponse, status: number, json: string): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(json),
  });
  res.end(json);
}
