import type { BenchArgs } from './args';
import { Progress } from './progress';
import type { ResultRow } from './results';

export interface ScenarioContext {
  args: BenchArgs;
  /** 1 for a full run, 0.1 with `--quick`: multiply record counts by it. */
  scale: number;
  /** A directory for this scenario's logs, config files and profiles (kept after the run). */
  workDir: string;
  progress: Progress;
  /** Registers a cleanup step; steps run last-registered first, also when the scenario fails. */
  defer(what: string, step: () => unknown): void;
}

/** What a scenario hands back; the harness adds timing, machine and command. */
export interface ScenarioOutcome {
  rows: ResultRow[];
  details: Record<string, unknown>;
}

export interface Scenario {
  /** The name `--only` selects and results are stored under. */
  name: string;
  /** Left out of a full run: runs only when `--only` names it. */
  optIn?: boolean;
  description: string;
  run(ctx: ScenarioContext): Promise<ScenarioOutcome>;
}
