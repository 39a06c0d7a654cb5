import { Controller, Get, Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Shards } from '@tributary/shared';
import { connect } from 'node:net';
import { DataSource } from 'typeorm';

/** How long a probe waits for a connection, and how long its answer is reused. */
export const PROBE_TIMEOUT_MS = 2_000;
export const PROBE_CACHE_MS = 5_000;

export interface DeploymentHealthView {
  id: string;
  uri: string;
  /** When it was registered: its discovery (there is no periodic rediscovery). */
  discovered_at: string;
  /** Whether a TCP connection to its host and port opened within 2 s, at `probed_at`. */
  reachable: boolean;
  /** Why not, when not reachable (e.g. `connect ECONNREFUSED 127.0.0.1:9080`). */
  probe_error: string | null;
  probed_at: string;
  /** Its services' invocations that are open now after a failed attempt (backing off, paused). */
  failing: number;
  /** The latest of those failures, and when its invocation last changed. */
  last_failure: string | null;
  last_failure_at: string | null;
}

interface Probe {
  at: number;
  reachable: boolean;
  error: string | null;
}

/** Host and port of an http(s) URI, with the scheme's default port. */
function target(uri: string): { host: string; port: number } | null {
  try {
    const u = new URL(uri);
    const port = u.port !== '' ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
    return { host: u.hostname.replace(/^\[|\]$/g, ''), port };
  } catch {
    return null;
  }
}

function probe(uri: string): Promise<Omit<Probe, 'at'>> {
  const t = target(uri);
  if (!t) return Promise.resolve({ reachable: false, error: `not a URL: ${uri}` });
  return new Promise((resolve) => {
    const socket = connect({ host: t.host, port: t.port });
    const done = (error: string | null) => {
      socket.destroy();
      resolve({ reachable: error === null, error });
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => done(`no connection within ${PROBE_TIMEOUT_MS} ms`));
    socket.once('connect', () => done(null));
    socket.once('error', (err) => done(err.message));
  });
}

/**
 * Deployment health as the admin API can know it cheaply: whether the deployment's host and port
 * accept a TCP connection (a probe with a 2 s timeout, its answer reused for 5 s, so a console
 * polling every few seconds costs one connection per deployment per 5 s; no request is sent, so
 * the handler sees nothing), and the invoker's failures on it: its services' open invocations
 * whose last attempt failed, from the partial index of open invocations.
 */
@Injectable()
export class DeploymentHealthService {
  private readonly probes = new Map<string, Promise<Probe>>();

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(Shards) private readonly shards: Shards,
  ) {}

  private cachedProbe(uri: string): Promise<Probe> {
    const cached = this.probes.get(uri);
    const now = Date.now();
    if (cached) {
      return cached.then((p) => (now - p.at < PROBE_CACHE_MS ? p : this.freshProbe(uri)));
    }
    return this.freshProbe(uri);
  }

  private freshProbe(uri: string): Promise<Probe> {
    const p = probe(uri).then((r) => ({ ...r, at: Date.now() }));
    this.probes.set(uri, p);
    return p;
  }

  async health(): Promise<{ deployments: DeploymentHealthView[] }> {
    const deployments = await this.db.query<{ id: string; uri: string; created_at: Date }[]>(
      `SELECT id, uri, created_at FROM deployments ORDER BY created_at, id`,
    );
    const services = await this.db.query<{ name: string; deployment_id: string }[]>(
      `SELECT name, deployment_id FROM services`,
    );
    const deploymentOf = new Map(services.map((s) => [s.name, s.deployment_id]));
    // Per service in each shard (the services are in the catalog), then per deployment.
    const perService = await this.shards.each((db) =>
      db.query<{ service: string; failing: number; last_failure: string; last_failure_at: Date }[]>(
        `SELECT DISTINCT ON (i.target_service) i.target_service AS service,
                count(*) OVER (PARTITION BY i.target_service)::int AS failing,
                i.last_failure, i.modified_at AS last_failure_at
           FROM invocations i
          WHERE i.status <> 'completed' AND i.status IN ('backing-off', 'paused')
            AND i.last_failure IS NOT NULL
          ORDER BY i.target_service, i.modified_at DESC`,
      ),
    );
    const failing = new Map<
      string,
      { failing: number; last_failure: string; last_failure_at: Date }
    >();
    for (const f of perService.flat()) {
      const id = deploymentOf.get(f.service);
      if (id === undefined) continue;
      const seen = failing.get(id);
      if (!seen) failing.set(id, { ...f });
      else {
        seen.failing += f.failing;
        if (f.last_failure_at > seen.last_failure_at) {
          seen.last_failure = f.last_failure;
          seen.last_failure_at = f.last_failure_at;
        }
      }
    }
    const known = new Set(deployments.map((d) => d.uri));
    for (const uri of this.probes.keys()) if (!known.has(uri)) this.probes.delete(uri);
    const probes = await Promise.all(deployments.map((d) => this.cachedProbe(d.uri)));
    return {
      deployments: deployments.map((d, i) => {
        const f = failing.get(d.id);
        return {
          id: d.id,
          uri: d.uri,
          discovered_at: d.created_at.toISOString(),
          reachable: probes[i].reachable,
          probe_error: probes[i].error,
          probed_at: new Date(probes[i].at).toISOString(),
          failing: f?.failing ?? 0,
          last_failure: f?.last_failure ?? null,
          last_failure_at: f?.last_failure_at.toISOString() ?? null,
        };
      }),
    };
  }
}

@Controller('deployment-health')
export class DeploymentHealthController {
  constructor(private readonly health: DeploymentHealthService) {}

  @Get()
  get(): Promise<{ deployments: DeploymentHealthView[] }> {
    return this.health.health();
  }
}
