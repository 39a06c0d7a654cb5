// Pooled HTTP/2 cleartext sessions to Restate endpoints: one `ClientHttp2Session` per origin
// (scheme, host, port) carrying many concurrent streams, as Restate's own server keeps its
// connections to a deployment open instead of paying a TCP handshake (and a TIME-WAIT socket)
// per request. `http-exchange.ts` takes its HTTP/2 streams from here.
//
// - A session that fails, receives GOAWAY or closes leaves the pool at once; the next request
//   opens a new one. Streams already on it end as the session's failure or the peer's GOAWAY
//   says; they are not retried here (the invoker's retry policy retries attempts).
// - A stream's own failure (reset, timeout, abort, oversized answer) resets only that stream:
//   the session and its other streams go on.
// - Streams per session are bounded by the peer's SETTINGS_MAX_CONCURRENT_STREAMS: when every
//   session to an origin is at that bound, a further session to the same origin is opened (not
//   queued), so no stream waits behind another one's slow handler. A new session takes streams
//   only once the peer's SETTINGS arrived (requests meanwhile wait for them), so a burst of
//   requests never goes over a bound not known yet (the peer would refuse those streams).
// - A session with no stream for `idleTimeoutMs` (30 s by default) is closed. Idle sessions are
//   unref'd and the idle timer too: a pool never keeps a process alive.
// - `close()` closes every session (streams in flight may finish) and waits until they are
//   closed, destroying those still open after `closeGraceMs`. The pool stays usable: a later
//   request opens a new session.
import * as http2 from 'node:http2';

export interface Http2SessionPoolOptions {
  /** A session without streams for this long is closed. Default 30 s. */
  idleTimeoutMs?: number;
  /** How long `close()` lets streams in flight finish before destroying their sessions. Default 5 s. */
  closeGraceMs?: number;
}

/** What an exchange on a pooled session hears about the session itself. */
export interface SessionListener {
  /** The session failed (connect error, socket error, protocol error): every stream on it is lost. */
  onSessionError(e: Error): void;
  /** The peer sent GOAWAY: streams above `lastStreamId` were not processed. */
  onGoaway(code: number, lastStreamId: number): void;
}

/** A stream taken from the pool; `release()` unsubscribes the listener (the stream's close frees its slot). */
export interface PooledStream {
  stream: http2.ClientHttp2Stream;
  /** True when the stream went on a session that had carried streams before. */
  reused: boolean;
  release(): void;
}

interface PooledSession {
  origin: string;
  session: http2.ClientHttp2Session;
  /** Streams opened on it that have not closed yet. */
  active: number;
  /** Streams ever opened on it. */
  opened: number;
  listeners: Set<SessionListener>;
  idleTimer?: NodeJS.Timeout;
  /** No new streams: failed, GOAWAY, closing or closed. */
  retired: boolean;
  /** The peer's first SETTINGS arrived. */
  settingsKnown: boolean;
  /** Resolves once the peer's SETTINGS arrived or the session closed; rejects on its error. */
  settled: Promise<void>;
}

const DEFAULT_IDLE_MS = 30_000;
const DEFAULT_CLOSE_GRACE_MS = 5_000;

export class Http2SessionPool {
  private readonly byOrigin = new Map<string, PooledSession[]>();
  private readonly all = new Set<PooledSession>();
  private readonly idleTimeoutMs: number;
  private readonly closeGraceMs: number;

  constructor(options: Http2SessionPoolOptions = {}) {
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_MS;
    this.closeGraceMs = options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS;
  }

  /**
   * Opens a stream to `url`'s origin on a session with room for it: a pooled one, or a new one
   * once the peer's SETTINGS arrived (its stream bound is known then). The session is picked and
   * the stream opened in the same tick, so no other request takes the slot in between. Resolves
   * to undefined when `wanted()` says the caller gave up while waiting (no stream is opened).
   * Rejects with the session's error when it cannot connect, or with what
   * `ClientHttp2Session.request` throws.
   */
  async request(
    url: URL,
    headers: http2.OutgoingHttpHeaders,
    listener: SessionListener,
    wanted: () => boolean = () => true,
  ): Promise<PooledStream | undefined> {
    const origin = url.origin;
    for (;;) {
      const ready = this.pick(origin);
      if (ready) return wanted() ? this.openStream(ready, headers, listener) : undefined;
      const pending =
        this.byOrigin.get(origin)?.find((e) => !e.retired && !e.settingsKnown) ?? this.open(origin);
      await pending.settled;
      if (!wanted()) return undefined;
    }
  }

  private openStream(
    entry: PooledSession,
    headers: http2.OutgoingHttpHeaders,
    listener: SessionListener,
  ): PooledStream {
    const reused = entry.opened > 0;
    const stream = entry.session.request(headers);
    entry.opened += 1;
    entry.active += 1;
    entry.listeners.add(listener);
    clearTimeout(entry.idleTimer);
    entry.idleTimer = undefined;
    entry.session.ref();
    stream.once('close', () => {
      entry.active -= 1;
      if (entry.active === 0) this.idle(entry);
    });
    return {
      stream,
      reused,
      release: () => {
        entry.listeners.delete(listener);
      },
    };
  }

  /** Sessions open (or connecting) right now, in the pool or still draining after retirement. */
  sessionCount(origin?: string): number {
    if (origin === undefined) return this.all.size;
    let n = 0;
    for (const e of this.all) if (e.origin === origin) n += 1;
    return n;
  }

  /** Closes every session; resolves once all are closed. The pool can be used again afterwards. */
  async close(): Promise<void> {
    const entries = [...this.all];
    await Promise.all(
      entries.map(
        (e) =>
          new Promise<void>((resolve) => {
            this.retire(e);
            if (e.session.destroyed) return resolve();
            const grace = setTimeout(() => e.session.destroy(), this.closeGraceMs);
            grace.unref();
            e.session.once('close', () => {
              clearTimeout(grace);
              resolve();
            });
            e.session.close();
          }),
      ),
    );
  }

  private pick(origin: string): PooledSession | undefined {
    const entries = this.byOrigin.get(origin);
    if (!entries) return undefined;
    for (const e of entries) {
      if (e.retired || !e.settingsKnown || e.session.closed || e.session.destroyed) continue;
      if (e.active < maxStreams(e.session)) return e;
    }
    return undefined;
  }

  private open(origin: string): PooledSession {
    const session = http2.connect(origin);
    let settle!: (e?: Error) => void;
    const settled = new Promise<void>((resolve, reject) => {
      settle = (e) => (e ? reject(e) : resolve());
    });
    // Handled here too: nobody may be waiting when it rejects.
    settled.catch(() => undefined);
    const entry: PooledSession = {
      origin,
      session,
      active: 0,
      opened: 0,
      listeners: new Set(),
      retired: false,
      settingsKnown: false,
      settled,
    };
    session.once('remoteSettings', () => {
      entry.settingsKnown = true;
      settle();
    });
    // Not waiting for a stream yet: an idle session never holds the process.
    session.unref();
    const list = this.byOrigin.get(origin) ?? [];
    list.push(entry);
    this.byOrigin.set(origin, list);
    this.all.add(entry);
    session.on('error', (e: Error) => {
      this.retire(entry);
      settle(e);
      for (const l of [...entry.listeners]) l.onSessionError(e);
    });
    session.on('goaway', (code: number, lastStreamId: number) => {
      this.retire(entry);
      for (const l of [...entry.listeners]) l.onGoaway(code, lastStreamId);
    });
    session.once('close', () => {
      this.retire(entry);
      settle(
        entry.settingsKnown
          ? undefined
          : new Error(`HTTP/2 session to ${origin} closed before the peer's SETTINGS arrived`),
      );
      clearTimeout(entry.idleTimer);
      this.all.delete(entry);
    });
    return entry;
  }

  private idle(entry: PooledSession): void {
    if (entry.retired) {
      // Draining after GOAWAY or close(): nothing more will run on it.
      if (!entry.session.closed) entry.session.close();
      return;
    }
    entry.session.unref();
    clearTimeout(entry.idleTimer);
    entry.idleTimer = setTimeout(() => {
      this.retire(entry);
      entry.session.close();
    }, this.idleTimeoutMs);
    entry.idleTimer.unref();
  }

  private retire(entry: PooledSession): void {
    if (entry.retired) return;
    entry.retired = true;
    const list = this.byOrigin.get(entry.origin);
    if (!list) return;
    const rest = list.filter((e) => e !== entry);
    if (rest.length === 0) this.byOrigin.delete(entry.origin);
    else this.byOrigin.set(entry.origin, rest);
  }
}

/** The peer's bound on concurrent streams (unbounded until its SETTINGS arrived). */
function maxStreams(session: http2.ClientHttp2Session): number {
  const advertised = session.remoteSettings?.maxConcurrentStreams;
  return typeof advertised === 'number' && advertised > 0 ? advertised : Number.MAX_SAFE_INTEGER;
}

let shared: Http2SessionPool | undefined;

/** The process-wide pool `exchange()` and `openDuplexExchange()` use over HTTP/2 by default. */
export function restateSessionPool(): Http2SessionPool {
  shared ??= new Http2SessionPool();
  return shared;
}

/**
 * Closes every pooled HTTP/2 session to Restate endpoints (the invoker calls it on shutdown).
 * Streams in flight get `closeGraceMs` to finish. Later exchanges open new sessions.
 */
export async function closeRestateSessions(): Promise<void> {
  await shared?.close();
}
