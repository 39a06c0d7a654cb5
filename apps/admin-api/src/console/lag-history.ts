import { Controller, Get, Injectable, Logger, OnModuleDestroy, Param } from '@nestjs/common';
import { AdminError } from '../common/admin-error';
import { SubscriptionIdPipe } from '../subscriptions/subscription-id.pipe';
import { SubscriptionService } from '../subscriptions/subscription.service';

export interface LagSampleView {
  /** Unix milliseconds. */
  at: number;
  /** Summed lag over the partitions that have a commit; null when none has. */
  lag: number | null;
  end_offset_sum: number;
  /** Summed committed offsets; null while a partition has none (no read rate then). */
  committed_offset_sum: number | null;
}

export interface LagHistoryView {
  interval_ms: number;
  /** Oldest first, at most an hour's worth. */
  samples: LagSampleView[];
}

/** How often a watched subscription is sampled, and how long it stays watched after a look. */
export const SAMPLE_INTERVAL_MS = 5_000;
const WATCH_MS = 10 * 60_000;
const MAX_SAMPLES = 720;

interface Watched {
  lastAsked: number;
  samples: LagSampleView[];
}

/**
 * A sampled lag history, kept in the admin API's memory per subscription. Sampling costs a Kafka
 * admin round trip, so a subscription is sampled only while someone looks at it: from the first
 * `GET /subscriptions/{id}/lag-history` until 10 minutes after the last, every 5 seconds, keeping
 * the last hour. Each admin API process keeps its own; a restart starts over. (Prometheus
 * metrics of the workers give a long-term history; this is the console's live view.)
 */
@Injectable()
export class LagHistoryService implements OnModuleDestroy {
  private readonly log = new Logger('LagHistory');
  private readonly watched = new Map<string, Watched>();
  private timer: NodeJS.Timeout | undefined;
  private sampling = false;

  constructor(private readonly subscriptions: SubscriptionService) {}

  async history(id: string): Promise<LagHistoryView> {
    let w = this.watched.get(id);
    if (!w) {
      w = { lastAsked: Date.now(), samples: [] };
      await this.sample(id, w); // 404 for an unknown subscription, before it is watched
      this.watched.set(id, w);
      this.timer ??= setInterval(() => void this.tick(), SAMPLE_INTERVAL_MS).unref();
    }
    w.lastAsked = Date.now();
    return { interval_ms: SAMPLE_INTERVAL_MS, samples: [...w.samples] };
  }

  private async tick(): Promise<void> {
    if (this.sampling) return;
    this.sampling = true;
    try {
      const now = Date.now();
      for (const [id, w] of this.watched) {
        if (now - w.lastAsked > WATCH_MS) {
          this.watched.delete(id);
          continue;
        }
        try {
          await this.sample(id, w);
        } catch (err) {
          // Deleted meanwhile: stop watching it.
          if (err instanceof AdminError && err.status === 404) this.watched.delete(id);
          else this.log.warn(`sampling ${id} failed: ${(err as Error).message}`);
        }
      }
      if (this.watched.size === 0) this.stop();
    } finally {
      this.sampling = false;
    }
  }

  private async sample(id: string, w: Watched): Promise<void> {
    const detail = await this.subscriptions.get(id);
    if (detail.partitions_error !== null || detail.partitions.length === 0) return;
    const parts = detail.partitions;
    const committed = parts.map((p) => p.committed_offset);
    const lags = parts.map((p) => p.lag).filter((l): l is number => l !== null);
    w.samples.push({
      at: Date.now(),
      lag: lags.length === 0 ? null : lags.reduce((a, b) => a + b, 0),
      end_offset_sum: parts.reduce((a, p) => a + p.end_offset, 0),
      committed_offset_sum: committed.some((c) => c === null)
        ? null
        : committed.reduce((a: number, c) => a + (c ?? 0), 0),
    });
    if (w.samples.length > MAX_SAMPLES) w.samples.splice(0, w.samples.length - MAX_SAMPLES);
  }

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  onModuleDestroy(): void {
    this.stop();
    this.watched.clear();
  }
}

@Controller('subscriptions')
export class LagHistoryController {
  constructor(private readonly history: LagHistoryService) {}

  @Get(':id/lag-history')
  get(@Param('id', SubscriptionIdPipe) id: string): Promise<LagHistoryView> {
    return this.history.history(id);
  }
}
