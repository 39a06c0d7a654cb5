import type { Scenario } from '../lib/scenario';
import { S1, S1RestateSdk, S2, S3 } from './compare.bench';
import { consoleScenario } from './console.bench';
import { scaleOutScenario, scaleOutShardsScenario } from './scale-out.bench';
import { workerScenario } from './worker.bench';

/**
 * Every scenario, in the order a full `npm run bench` runs them; the opt-in ones (`optIn`, here
 * scale-out and scale-out-shards) run only when `--only` names them.
 */
export const SCENARIOS: Scenario[] = [
  workerScenario,
  S1,
  S1RestateSdk,
  S2,
  S3,
  consoleScenario,
  scaleOutScenario,
  scaleOutShardsScenario,
];
