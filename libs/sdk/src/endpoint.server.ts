import { Server, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { RequestHandlerOptions, RequestListener, createRequestHandler } from './request.handler';
import { assertSigningKey } from './signing';
import { ServiceDefinition } from './service.definitions';

const DEFAULT_PORT = 9080;
// Longer than the invoker's pool keeps idle connections, so the deployment is not the side
// that closes a connection just as a request is sent on it.
const KEEP_ALIVE_MS = 65_000;

export interface ServeOptions {
  services: readonly ServiceDefinition[];
  /** Default env PORT, else 9080; 0 picks a free port (see `RunningEndpoint.port`). */
  port?: number;
  /** Default: every interface. */
  host?: string;
  /** Verify the invoker's signature; default env TRIBUTARY_SIGNING_KEY. Not empty or blank. */
  signingKey?: string;
  /** Largest request body read, in bytes; larger ones get 413 (default 32 MiB). */
  maxRequestBytes?: number;
  /** Nonces remembered within the 5 minute window to refuse replays (default 100 000). */
  maxNonces?: number;
}

export interface RunningEndpoint {
  readonly port: number;
  /** A URL the invoker on this machine can register. */
  readonly url: string;
  readonly server: Server;
  /** Stops accepting, lets requests in flight finish, then resolves. */
  close(): Promise<void>;
}

export async function serve(options: ServeOptions): Promise<RunningEndpoint> {
  const { signingKey, maxRequestBytes, maxNonces } = options;
  const listener = createRequestHandler(options.services, {
    signingKey,
    maxRequestBytes,
    maxNonces,
  });
  const server = createServer({ keepAliveTimeout: KEEP_ALIVE_MS }, listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? defaultPort(), options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://${urlHost(options.host)}:${port}`,
    server,
    close: () => close(server),
  };
}

/** Builder form, as Restate's `endpoint().bind(svc).listen(port)`. */
export class EndpointBuilder {
  private readonly services: ServiceDefinition[] = [];
  private options: RequestHandlerOptions = {};

  bind(service: ServiceDefinition): this {
    this.services.push(service);
    return this;
  }

  /** Throws a TypeError for an empty or whitespace-only key. */
  withSigningKey(key: string): this {
    assertSigningKey(key);
    this.options = { ...this.options, signingKey: key };
    return this;
  }

  /** Largest request body read, in bytes; larger ones get 413 (default 32 MiB). */
  withMaxRequestBytes(bytes: number): this {
    this.options = { ...this.options, maxRequestBytes: bytes };
    return this;
  }

  /** A node:http listener, to mount the services in an existing server. */
  handler(): RequestListener {
    return createRequestHandler(this.services, this.options);
  }

  listen(port?: number): Promise<RunningEndpoint> {
    return serve({ ...this.options, services: this.services, port });
  }
}

export function endpoint(): EndpointBuilder {
  return new EndpointBuilder();
}

function defaultPort(): number {
  const fromEnv = Number(process.env.PORT);
  return process.env.PORT && Number.isInteger(fromEnv) ? fromEnv : DEFAULT_PORT;
}

function urlHost(host: string | undefined): string {
  if (!host || host === '::' || host === '0.0.0.0') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

function close(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve, reject) => {
    server.close((err) => (err ? reject(err) : resolve()));
    server.closeIdleConnections();
  });
}
