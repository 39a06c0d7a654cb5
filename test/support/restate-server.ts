// The real Restate server (npm @restatedev/restate-server, the version in package.json), for tests
// that compare Tributary with it; its TOML is also what the bench's Restate system runs with
// (bench/compare/systems.ts).
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { arch, platform, tmpdir } from 'node:os';
import path from 'node:path';
import { TEST_BROKERS, waitFor } from './kafka';
import { freePort } from './processes';

export interface RestateServerTomlOptions {
  /** Restate's data directory (`base-dir`). */
  baseDir: string;
  nodePort: number;
  adminPort: number;
  ingressPort: number;
  /** Brokers of the Kafka cluster Restate's own Kafka ingress reads from, `host:port`. */
  brokers: readonly string[];
  /** Name of that cluster in subscriptions' `kafka://<name>/<topic>` (default `local`). */
  clusterName?: string;
  nodeName?: string;
  /**
   * Small memory pools and 2 partitions instead of Restate's production defaults (24 partitions,
   * 2 GiB for RocksDB, 1 GiB for the query engine): about 130 MiB at start, for tests.
   */
  small?: boolean;
}

/**
 * Restate's configuration: its ports on loopback (Tributary's admin API also defaults to 9070),
 * the given data directory, the broker as a Kafka cluster, telemetry off; Restate's defaults
 * otherwise unless `small`.
 */
export function restateServerToml(o: RestateServerTomlOptions): string {
  return [
    `node-name = "${o.nodeName ?? 'tributary-compare'}"`,
    `base-dir = "${o.baseDir}"`,
    `bind-address = "127.0.0.1:${o.nodePort}"`,
    `advertised-address = "http://127.0.0.1:${o.nodePort}/"`,
    '# No outgoing telemetry: this machine reaches nothing but loopback.',
    'disable-telemetry = true',
    'log-disable-ansi-codes = true',
    ...(o.small
      ? [
          'default-num-partitions = 2',
          'rocksdb-total-memory-size = "128 MiB"',
          '',
          '[admin.query-engine]',
          'memory-size = "64 MiB"',
          '',
          '[bifrost]',
          'record-cache-memory-size = "16 MiB"',
        ]
      : []),
    '',
    '[admin]',
    `bind-address = "127.0.0.1:${o.adminPort}"`,
    '',
    '[ingress]',
    `bind-address = "127.0.0.1:${o.ingressPort}"`,
    '',
    '[[ingress.kafka-clusters]]',
    `name = "${o.clusterName ?? 'local'}"`,
    `brokers = [${o.brokers.map((b) => `"PLAINTEXT://${b}"`).join(', ')}]`,
    '',
  ].join('\n');
}

/** The native server binary the npm package's wrapper script runs. */
export function restateServerBinary(): string {
  return require.resolve(`@restatedev/restate-server-${platform()}-${arch()}/bin/restate-server`);
}

/** A running Restate server, started by `startRestateServer`; `stop()` ends it and its data. */
export class RestateServer {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly adminUrl: string,
    readonly ingressUrl: string,
    private readonly out: () => string,
    readonly exited: Promise<number | string>,
  ) {}

  /**
   * The native binary (not the npm wrapper, which would leave it behind if killed), with
   * `restateServerToml({small: true})` in a fresh temporary directory, the test brokers as
   * cluster `local`. Resolves once its admin API answers `/health`.
   */
  static async start(): Promise<RestateServer> {
    for (let attempt = 1; ; attempt++) {
      const dir = mkdtempSync(path.join(tmpdir(), 'tributary-restate-'));
      const [nodePort, adminPort, ingressPort] = [
        await freePort(),
        await freePort(),
        await freePort(),
      ];
      const config = path.join(dir, 'restate.toml');
      writeFileSync(
        config,
        restateServerToml({
          baseDir: path.join(dir, 'data'),
          nodePort,
          adminPort,
          ingressPort,
          brokers: TEST_BROKERS,
          small: true,
        }),
      );
      const child = spawn(restateServerBinary(), ['--config-file', config, '--no-logo'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      const keep = (d: Buffer): void => {
        out = (out + d.toString()).slice(-64 * 1024);
      };
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      const exited = new Promise<number | string>((resolve) =>
        child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)),
      );
      const server = new RestateServer(
        child,
        dir,
        `http://127.0.0.1:${adminPort}`,
        `http://127.0.0.1:${ingressPort}`,
        () => out,
        exited,
      );
      let gone = false;
      void exited.then(() => (gone = true));
      try {
        await waitFor(
          async () => {
            if (gone) throw new Error(`restate-server exited: ${out.slice(-2000)}`);
            return (await fetch(`${server.adminUrl}/health`)).ok;
          },
          'the Restate server to answer /health',
          30_000,
          100,
        );
        return server;
      } catch (err) {
        await server.stop();
        // A port found free can be taken before the server binds it: try again with new ports.
        if (attempt >= 3 || !out.includes('Address already in use')) throw err;
      }
    }
  }

  /** The server's last output, for failure messages. */
  output(): string {
    return this.out();
  }

  /** Calls Restate's admin API; rejects naming the call when it does not answer 2xx. */
  async admin<T = Record<string, unknown>>(method: string, p: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.adminUrl}${p}`, {
      method,
      headers: {
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`Restate ${method} ${p} answered ${res.status}: ${text}`);
    return (text ? JSON.parse(text) : {}) as T;
  }

  /** Runs SQL on Restate's introspection tables (`POST /query`); the rows. */
  async query<T = Record<string, unknown>>(sql: string): Promise<T[]> {
    return (await this.admin<{ rows: T[] }>('POST', '/query', { query: sql })).rows;
  }

  /** SIGTERM, SIGKILL after 10 s; then removes its directory. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await this.exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
