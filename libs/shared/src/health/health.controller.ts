import { Controller, Get, HttpStatus, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import { DataSource } from 'typeorm';
import { Bus } from '../app/bus.module';

const CHECK_TIMEOUT_MS = 2_000;

async function check(probe: () => Promise<unknown>): Promise<string> {
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
    return `down: ${err instanceof Error ? err.message : String(err)}`;
  } finally {
    clearTimeout(timer);
  }
}

/** Readiness: 200 when Postgres and the Kafka bus both answer, 503 naming what does not. */
@Controller()
export class HealthController {
  private draining = false;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(Bus) private readonly bus: Bus,
  ) {}

  /** Once shutdown starts, readiness fails so load balancers stop sending work. */
  markDraining(): void {
    this.draining = true;
  }

  @Get('health')
  async health(@Res() res: Response): Promise<void> {
    const [postgres, kafka] = await Promise.all([
      check(() => this.dataSource.query('SELECT 1')),
      check(() => this.bus.admin.ping(CHECK_TIMEOUT_MS)),
    ]);
    const ok = !this.draining && postgres === 'up' && kafka === 'up';
    res.status(ok ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE).json({
      status: ok ? 'ok' : this.draining ? 'draining' : 'unavailable',
      checks: { postgres, kafka },
    });
  }
}
