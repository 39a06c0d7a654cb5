import { Controller, Get, HttpStatus, Inject, Logger, Res } from '@nestjs/common';
import type { Response } from 'express';
import { DataSource } from 'typeorm';
import { Bus } from '../app/bus.module';
import { Shards } from '../database/shards';

const CHECK_TIMEOUT_MS = 2_000;

/**
 * What `/health` says of a component. Only these words: the endpoint answers without a token,
 * and error texts name hosts, ports and user names (`connect ECONNREFUSED 10.0.3.7:5432`); they
 * go to the log instead.
 */
export type ComponentHealth = 'up' | 'unreachable';

const logger = new Logger('health');

/** Runs `probe` with a timeout; a failure is logged with its reason and answered as a word. */
export async function check(
  component: string,
  probe: () => Promise<unknown>,
): Promise<ComponentHealth> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`timed out after ${CHECK_TIMEOUT_MS}ms`)),
          CHECK_TIMEOUT_MS,
        );
      }),
    ]);
    return 'up';
  } catch (err) {
    logger.warn(`${component} is unreachable: ${err instanceof Error ? err.message : String(err)}`);
    return 'unreachable';
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Readiness: 200 when Postgres (every shard of `database.shards`) and the Kafka bus answer, 503
 * naming what does not, by status word only (the reason is logged).
 */
@Controller()
export class HealthController {
  private draining = false;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(Bus) private readonly bus: Bus,
    @Inject(Shards) private readonly shards: Shards,
  ) {}

  /** Once shutdown starts, readiness fails so load balancers stop sending work. */
  markDraining(): void {
    this.draining = true;
  }

  @Get('health')
  async health(@Res() res: Response): Promise<void> {
    const others = this.shards.all.filter((db) => db !== this.dataSource);
    const [main, kafka, ...shards] = await Promise.all([
      check('postgres', () => this.dataSource.query('SELECT 1')),
      check('kafka', () => this.bus.admin.ping(CHECK_TIMEOUT_MS)),
      ...others.map((db) => check('postgres shard', () => db.query('SELECT 1'))),
    ]);
    const postgres = shards.find((s) => s !== 'up') ?? main;
    const ok = !this.draining && postgres === 'up' && kafka === 'up';
    res.status(ok ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE).json({
      status: ok ? 'ok' : this.draining ? 'draining' : 'unavailable',
      checks: { postgres, kafka },
    });
  }
}
