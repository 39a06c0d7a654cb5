// In-process servers for endpoints built with @restatedev/restate-sdk, on loopback and an
// ephemeral port, each closed by the test that started it. `restate.serve()` is not used: it
// returns the port only, and its server could never be closed.
import * as http from 'node:http';
import * as http2 from 'node:http2';
import { AddressInfo, Socket } from 'node:net';

export interface RunningEndpoint {
  url: string;
  port: number;
  /** HTTP requests received so far. */
  requests(): number;
  /** Connections (HTTP/2 sessions, HTTP/1.1 sockets) open right now. */
  openConnections(): number;
  /** Requests whose stream (HTTP/2) or response (HTTP/1.1) has not closed yet. */
  openStreams(): number;
  close(): Promise<void>;
}

type Http1Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;
type Http2Handler = (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void;

/**
 * HTTP/2 cleartext, prior knowledge only (what `restate.serve` and `endpoint().listen` run), on
 * `port` if given (0: an ephemeral one), with the server `settings` given (e.g. a
 * `maxConcurrentStreams` bound).
 */
export async function startHttp2Endpoint(
  handler: Http2Handler,
  options: { port?: number; settings?: http2.Settings } = {},
): Promise<RunningEndpoint> {
  let requests = 0;
  let openStreams = 0;
  const server = http2.createServer({ settings: options.settings }, (req, res) => {
    requests += 1;
    openStreams += 1;
    req.stream.once('close', () => (openStreams -= 1));
    handler(req, res);
  });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
  });
  return listen(
    server,
    () => {
      for (const s of sessions) s.destroy();
    },
    () => requests,
    () => sessions.size,
    () => openStreams,
    options.port,
  );
}

/** HTTP/1.1 on node:http, for `endpoint().http1Handler()`. */
export async function startHttp1Endpoint(handler: Http1Handler): Promise<RunningEndpoint> {
  let requests = 0;
  let openStreams = 0;
  const server = http.createServer((req, res) => {
    requests += 1;
    openStreams += 1;
    res.once('close', () => (openStreams -= 1));
    handler(req, res);
  });
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  return listen(
    server,
    () => {
      for (const s of sockets) s.destroy();
    },
    () => requests,
    () => sockets.size,
    () => openStreams,
  );
}

async function listen(
  server: http.Server | http2.Http2Server,
  dropConnections: () => void,
  requests: () => number,
  openConnections: () => number,
  openStreams: () => number,
  port = 0,
): Promise<RunningEndpoint> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    requests,
    openConnections,
    openStreams,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        dropConnections();
      }),
  };
}
