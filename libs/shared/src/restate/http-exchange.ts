// One HTTP exchange with a Restate endpoint, over HTTP/2 cleartext with prior knowledge (the
// way Restate's own server talks to endpoints served by `restate.serve`) or over HTTP/1.1.
// `exchange()`: the request body, if any, is sent whole and then closed (request/response
// style). `openDuplexExchange()` (HTTP/2 only): the request stream stays open for writing while
// the response is read (bidirectional streaming). Either way the response body is handed over
// chunk by chunk and bounded in size; a deadline and an AbortSignal end it early. Over HTTP/2
// the streams go on pooled sessions (`http2-pool.ts`) unless `pooled: false` asks for a session
// of the exchange's own, closed at its end.
import * as http from 'node:http';
import * as http2 from 'node:http2';
import { Http2SessionPool, PooledStream, restateSessionPool } from './http2-pool';

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
  /**
   * HTTP/2 only. `true` (default): the stream goes on a pooled session to the URL's origin
   * (`restateSessionPool()`, or `pool` if given), which stays open for later exchanges.
   * `false`: a session of this exchange's own, closed at its end (what discovery uses).
   */
  pooled?: boolean;
  /** HTTP/2 only: the pool to use instead of the process-wide one (tests). */
  pool?: Http2SessionPool;
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
  const duplex = openH2Duplex(req, options);
  duplex.end(req.body);
  return duplex.done;
}

/**
 * An HTTP/2 exchange whose request stream stays open for writing while the response body is
 * read: what a Restate endpoint in `BIDI_STREAM` mode is talked to with. `done` settles as
 * `exchange()` does (same size bound, deadline, AbortSignal, errors). On a pooled session (the
 * default) a failure resets this stream only; with `pooled: false` the exchange's own session is
 * closed at the end either way. When the response ends while the request stream is still open, the
 * request stream is ended then, so nothing stays half-open.
 */
export interface DuplexExchange {
  /**
   * Writes on the request stream; resolves once the stream accepted the bytes (after `drain`
   * when its buffer is full). Rejects with an `ExchangeError` when the request stream was ended
   * or the exchange is over.
   */
  write(bytes: Uint8Array): Promise<void>;
  /** Ends the request stream, after `bytes` if given. Idempotent; a no-op once the exchange is over. */
  end(bytes?: Uint8Array): void;
  /** True once `end` was called or the exchange is over: `write` would reject. */
  readonly writable: boolean;
  /** Ends the exchange with a 'consumer' `ExchangeError` caused by `reason`, resetting the stream. */
  fail(reason: unknown): void;
  /** Settles at the end of the response body, or on the first failure. */
  readonly done: Promise<ExchangeResponse>;
}

export function openDuplexExchange(req: ExchangeRequest, options: ExchangeOptions): DuplexExchange {
  if (req.url.protocol !== 'http:') {
    return closedDuplex(
      new ExchangeError(
        `only cleartext http: endpoints are supported, got ${req.url.protocol}`,
        'connect',
        'http2',
      ),
    );
  }
  if (req.body) {
    return closedDuplex(
      new ExchangeError(
        'a duplex exchange takes its request body through write(), not `body`',
        'consumer',
        'http2',
      ),
    );
  }
  return openH2Duplex(req, options);
}

function closedDuplex(err: ExchangeError): DuplexExchange {
  const done = Promise.reject(err);
  // Handled here too: a caller whose first write failed may never look at `done`.
  done.catch(() => undefined);
  return {
    write: () => Promise.reject(err),
    end: () => undefined,
    writable: false,
    fail: () => undefined,
    done,
  };
}

/** `Promise.withResolvers`, which Node 20 lacks. Its promise never counts as unhandled. */
function deferred<T>(): { promise: Promise<T>; resolve(v: T): void; reject(e: unknown): void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

function openH2Duplex(req: ExchangeRequest, options: ExchangeOptions): DuplexExchange {
  let settled = false;
  let requestEnded = false;
  let status: number | undefined;
  let responseHeaders: http2.IncomingHttpHeaders = {};
  const sink = new BodySink(options);
  const result = deferred<ExchangeResponse>();
  // Woken when the exchange settles, for writes waiting on `drain`.
  const over = deferred<void>();

  if (options.signal?.aborted) {
    return closedDuplex(abortedError('http2', options.signal));
  }
  const sessionFailure = (e: Error) =>
    new ExchangeError(
      `HTTP/2 session to ${req.url.origin} failed: ${describeError(e)}`,
      status === undefined && isConnectError(e) ? 'connect' : 'protocol',
      'http2',
      status,
      { cause: e },
    );
  const onGoaway = (code: number) => {
    if (status === undefined && code !== http2.constants.NGHTTP2_NO_ERROR) {
      finish(
        new ExchangeError(
          `HTTP/2 peer at ${req.url.origin} sent GOAWAY (code ${code}) before answering`,
          'protocol',
          'http2',
        ),
      );
    }
  };
  const headers = {
    ':method': req.method,
    ':path': req.url.pathname + req.url.search,
    ...req.headers,
  };
  // Pooled: the session outlives the exchange and only this stream is reset on a failure; the
  // stream exists once the pool has a session with room for it (writes and `end` before that are
  // queued, in order). Unpooled: one session per exchange, closed at its end.
  let own: http2.ClientHttp2Session | undefined;
  let pooled: PooledStream | undefined;
  let stream: http2.ClientHttp2Stream | undefined;
  const queued: Buffer[] = [];
  let queuedEnd: { bytes?: Buffer } | undefined;
  const attached = deferred<void>();

  const finish = (err: ExchangeError | undefined) => {
    if (settled) return;
    settled = true;
    guards.dispose();
    over.resolve();
    pooled?.release();
    if (err) {
      if (stream && !stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
      own?.destroy();
      result.reject(err);
      return;
    }
    // The response ended; a request stream still open would keep the stream half-open.
    if (!requestEnded) {
      requestEnded = true;
      stream!.end();
    }
    own?.close();
    result.resolve({
      status: status!,
      headers: flattenHeaders(responseHeaders),
      body: sink.body(),
      bodyBytes: sink.bytes,
    });
  };
  const guards = guard('http2', options, finish);

  const attach = (s: http2.ClientHttp2Stream) => {
    stream = s;
    /** What each chunk's consumer sees: made once per response, not once per chunk. */
    let head: ResponseHead | undefined;
    s.on('response', (headers) => {
      status = Number(headers[':status']);
      responseHeaders = headers;
      head = undefined;
    });
    s.on('data', (chunk: Buffer) => {
      if (settled) return;
      head ??= { status: status ?? 0, headers: flattenHeaders(responseHeaders) };
      const err = sink.add(chunk, 'http2', head);
      if (err) finish(err);
    });
    s.on('end', () => {
      if (status === undefined) {
        finish(new ExchangeError('HTTP/2 stream ended without a response', 'protocol', 'http2'));
      } else {
        finish(undefined);
      }
    });
    s.on('error', (e) =>
      finish(
        new ExchangeError(
          `HTTP/2 stream to ${req.url.origin} failed: ${describeError(e)}`,
          status === undefined && isConnectError(e) ? 'connect' : 'protocol',
          'http2',
          status,
          { cause: e },
        ),
      ),
    );
    // 'close' follows every stream's end: an error (and its stack trace) only when it is news.
    s.on('close', () => {
      if (settled) return;
      finish(
        new ExchangeError(
          `HTTP/2 stream closed (code ${s.rstCode}) before the response ended`,
          'protocol',
          'http2',
          status,
        ),
      );
    });
    for (const bytes of queued.splice(0)) s.write(bytes);
    if (queuedEnd) s.end(queuedEnd.bytes);
    attached.resolve();
  };

  if (options.pooled === false) {
    own = http2.connect(req.url.origin);
    own.on('error', (e: Error) => finish(sessionFailure(e)));
    own.on('goaway', onGoaway);
    attach(own.request(headers));
  } else {
    const pool = options.pool ?? restateSessionPool();
    pool
      .request(
        req.url,
        headers,
        { onSessionError: (e) => finish(sessionFailure(e)), onGoaway },
        // Timed out or aborted while waiting for a session: no stream is opened.
        () => !settled,
      )
      .then(
        (opened) => {
          if (!opened) return;
          pooled = opened;
          attach(opened.stream);
        },
        (e: Error) =>
          finish(
            e instanceof Error && (e as NodeJS.ErrnoException).code?.startsWith('ERR_HTTP2')
              ? new ExchangeError(
                  `HTTP/2 request to ${req.url.origin} could not be opened: ${describeError(e)}`,
                  'protocol',
                  'http2',
                  undefined,
                  { cause: e },
                )
              : sessionFailure(e),
          ),
      );
  }

  const notWritable = () =>
    new ExchangeError(
      settled ? 'write on an exchange that is over' : 'write after the request stream was ended',
      'consumer',
      'http2',
      status,
    );

  return {
    async write(bytes: Uint8Array): Promise<void> {
      if (settled || requestEnded) throw notWritable();
      if (!stream) {
        queued.push(Buffer.from(bytes));
        await Promise.race([attached.promise, over.promise]);
        if (settled && !stream) throw notWritable();
        return;
      }
      const s = stream;
      if (s.write(toBuffer(bytes))) return;
      const drained = new Promise<void>((resolve) => s.once('drain', resolve));
      await Promise.race([drained, over.promise]);
      if (settled) throw notWritable();
    },
    end(bytes?: Uint8Array): void {
      if (settled || requestEnded) return;
      requestEnded = true;
      if (stream) stream.end(bytes ? toBuffer(bytes) : undefined);
      else queuedEnd = { bytes: bytes ? Buffer.from(bytes) : undefined };
    },
    get writable() {
      return !settled && !requestEnded;
    },
    fail(reason: unknown): void {
      finish(
        new ExchangeError(
          reason instanceof Error ? reason.message : String(reason),
          'consumer',
          'http2',
          status,
          { cause: reason },
        ),
      );
    },
    done: result.promise,
  };
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
