// One HTTP exchange with a Restate endpoint, over HTTP/2 cleartext with prior knowledge (the
// way Restate's own server talks to endpoints served by `restate.serve`) or over HTTP/1.1. The
// request body, if any, is sent whole and then closed: request/response style. The response body
// is handed over chunk by chunk and bounded in size; a deadline and an AbortSignal end it early.
import * as http from 'node:http';
import * as http2 from 'node:http2';

export type RestateTransport = 'http2' | 'http1';

export interface ExchangeRequest {
  method: 'GET' | 'POST';
  /** Absolute URL of the resource. Only `http:` is supported. */
  url: URL;
  headers: Record<string, string>;
  body?: Uint8Array;
}

export interface ExchangeOptions {
  /** Whole exchange, from connect to the end of the response body. */
  timeoutMs: number;
  /** Response body bytes beyond this fail the exchange. */
  maxBytes: number;
  signal?: AbortSignal;
  /** Each response body chunk as it arrives; a throw ends the exchange with that error. */
  onChunk?: (chunk: Buffer, head: ResponseHead) => void;
}

export interface ResponseHead {
  status: number;
  headers: Record<string, string>;
}

export interface ExchangeResponse {
  status: number;
  headers: Record<string, string>;
  /** The body, unless `onChunk` consumed it (then empty). */
  body: Buffer;
  bodyBytes: number;
}

/** Why an exchange failed, and whether any response headers had arrived by then. */
export class ExchangeError extends Error {
  override readonly name = 'ExchangeError';
  constructor(
    message: string,
    readonly kind: 'connect' | 'protocol' | 'timeout' | 'aborted' | 'too-large' | 'consumer',
    readonly transport: RestateTransport,
    /** Status line seen before the failure, if any. */
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function exchange(
  transport: RestateTransport,
  req: ExchangeRequest,
  options: ExchangeOptions,
): Promise<ExchangeResponse> {
  if (req.url.protocol !== 'http:') {
    return Promise.reject(
      new ExchangeError(
        `only cleartext http: endpoints are supported, got ${req.url.protocol}`,
        'connect',
        transport,
      ),
    );
  }
  return transport === 'http2' ? exchangeH2(req, options) : exchangeH1(req, options);
}

/** Collects the body (or feeds onChunk), enforces the size bound. */
class BodySink {
  private readonly chunks: Buffer[] = [];
  bytes = 0;
  constructor(private readonly options: ExchangeOptions) {}

  /** Returns the failure to end the exchange with, if any. */
  add(chunk: Buffer, transport: RestateTransport, head: ResponseHead): ExchangeError | undefined {
    const status = head.status;
    this.bytes += chunk.length;
    if (this.bytes > this.options.maxBytes) {
      return new ExchangeError(
        `response body over the limit of ${this.options.maxBytes} bytes`,
        'too-large',
        transport,
        status,
      );
    }
    if (this.options.onChunk) {
      try {
        this.options.onChunk(chunk, head);
      } catch (e) {
        return new ExchangeError(
          e instanceof Error ? e.message : String(e),
          'consumer',
          transport,
          status,
          { cause: e },
        );
      }
    } else {
      this.chunks.push(chunk);
    }
    return undefined;
  }

  body(): Buffer {
    return Buffer.concat(this.chunks, this.options.onChunk ? 0 : this.bytes);
  }
}

/** Deadline + AbortSignal wiring shared by both transports. */
function guard(
  transport: RestateTransport,
  options: ExchangeOptions,
  fail: (e: ExchangeError) => void,
): { dispose(): void } {
  const timer = setTimeout(
    () =>
      fail(
        new ExchangeError(
          `no complete answer within ${options.timeoutMs} ms`,
          'timeout',
          transport,
        ),
      ),
    options.timeoutMs,
  );
  const onAbort = () =>
    fail(
      new ExchangeError('aborted by the caller', 'aborted', transport, undefined, {
        cause: options.signal?.reason,
      }),
    );
  options.signal?.addEventListener('abort', onAbort, { once: true });
  return {
    dispose() {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    },
  };
}

function describeError(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    return code && !e.message.includes(code) ? `${code}: ${e.message}` : e.message;
  }
  return String(e);
}

function abortedError(transport: RestateTransport, signal: AbortSignal): ExchangeError {
  return new ExchangeError('aborted by the caller', 'aborted', transport, undefined, {
    cause: signal.reason,
  });
}

function exchangeH2(req: ExchangeRequest, options: ExchangeOptions): Promise<ExchangeResponse> {
  return new Promise<ExchangeResponse>((resolve, reject) => {
    if (options.signal?.aborted) return reject(abortedError('http2', options.signal));
    let settled = false;
    let status: number | undefined;
    let responseHeaders: http2.IncomingHttpHeaders = {};
    const sink = new BodySink(options);
    // One session per exchange, closed at its end: nothing lingers after a call returns.
    const session = http2.connect(req.url.origin);
    const stream = session.request({
      ':method': req.method,
      ':path': req.url.pathname + req.url.search,
      ...req.headers,
    });

    const finish = (err: ExchangeError | undefined) => {
      if (settled) return;
      settled = true;
      guards.dispose();
      if (err) {
        if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
        session.destroy();
        reject(err);
        return;
      }
      session.close();
      resolve({
        status: status!,
        headers: flattenHeaders(responseHeaders),
        body: sink.body(),
        bodyBytes: sink.bytes,
      });
    };
    const guards = guard('http2', options, finish);

    session.on('error', (e) =>
      finish(
        new ExchangeError(
          `HTTP/2 session to ${req.url.origin} failed: ${describeError(e)}`,
          status === undefined && isConnectError(e) ? 'connect' : 'protocol',
          'http2',
          status,
          { cause: e },
        ),
      ),
    );
    session.on('goaway', (code) => {
      if (status === undefined && code !== http2.constants.NGHTTP2_NO_ERROR) {
        finish(
          new ExchangeError(
            `HTTP/2 peer at ${req.url.origin} sent GOAWAY (code ${code}) before answering`,
            'protocol',
            'http2',
          ),
        );
      }
    });
    stream.on('response', (headers) => {
      status = Number(headers[':status']);
      responseHeaders = headers;
    });
    stream.on('data', (chunk: Buffer) => {
      const err = sink.add(chunk, 'http2', {
        status: status ?? 0,
        headers: flattenHeaders(responseHeaders),
      });
      if (err) finish(err);
    });
    stream.on('end', () => {
      if (status === undefined) {
        finish(new ExchangeError('HTTP/2 stream ended without a response', 'protocol', 'http2'));
      } else {
        finish(undefined);
      }
    });
    stream.on('error', (e) =>
      finish(
        new ExchangeError(
          `HTTP/2 stream failed: ${describeError(e)}`,
          'protocol',
          'http2',
          status,
          {
            cause: e,
          },
        ),
      ),
    );
    stream.on('close', () =>
      finish(
        new ExchangeError(
          `HTTP/2 stream closed (code ${stream.rstCode}) before the response ended`,
          'protocol',
          'http2',
          status,
        ),
      ),
    );
    stream.end(req.body ? toBuffer(req.body) : undefined);
  });
}

function exchangeH1(req: ExchangeRequest, options: ExchangeOptions): Promise<ExchangeResponse> {
  return new Promise<ExchangeResponse>((resolve, reject) => {
    if (options.signal?.aborted) return reject(abortedError('http1', options.signal));
    let settled = false;
    let status: number | undefined;
    let responseHeaders: http.IncomingHttpHeaders = {};
    const sink = new BodySink(options);
    const body = req.body ? toBuffer(req.body) : undefined;
    // A fresh connection per exchange: nothing is left pooled once the exchange ends.
    const agent = new http.Agent({ keepAlive: false });
    const request = http.request(req.url, {
      method: req.method,
      agent,
      headers: { ...req.headers, ...(body ? { 'content-length': String(body.length) } : {}) },
    });

    const finish = (err: ExchangeError | undefined) => {
      if (settled) return;
      settled = true;
      guards.dispose();
      if (err) {
        request.destroy();
        reject(err);
      } else {
        resolve({
          status: status!,
          headers: flattenHeaders(responseHeaders),
          body: sink.body(),
          bodyBytes: sink.bytes,
        });
      }
      agent.destroy();
    };
    const guards = guard('http1', options, finish);

    request.on('response', (res) => {
      status = res.statusCode ?? 0;
      responseHeaders = res.headers;
      res.on('data', (chunk: Buffer) => {
        const err = sink.add(chunk, 'http1', {
          status: status ?? 0,
          headers: flattenHeaders(responseHeaders),
        });
        if (err) finish(err);
      });
      res.on('end', () => finish(undefined));
      res.on('error', (e) =>
        finish(
          new ExchangeError(
            `HTTP/1.1 response failed: ${describeError(e)}`,
            'protocol',
            'http1',
            status,
            {
              cause: e,
            },
          ),
        ),
      );
      res.on('close', () => {
        if (!res.complete) {
          finish(
            new ExchangeError(
              'HTTP/1.1 response closed before its end',
              'protocol',
              'http1',
              status,
            ),
          );
        }
      });
    });
    request.on('error', (e) =>
      finish(
        new ExchangeError(
          `HTTP/1.1 request to ${req.url.origin} failed: ${describeError(e)}`,
          status === undefined && isConnectError(e) ? 'connect' : 'protocol',
          'http1',
          status,
          { cause: e },
        ),
      ),
    );
    request.end(body);
  });
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

function isConnectError(e: unknown): boolean {
  return CONNECT_CODES.has((e as NodeJS.ErrnoException | undefined)?.code ?? '');
}

function flattenHeaders(
  headers: http.IncomingHttpHeaders | http2.IncomingHttpHeaders,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (k.startsWith(':') || v === undefined) continue;
    out[k] = Array.isArray(v) ? v.join(', ') : String(v);
  }
  return out;
}
