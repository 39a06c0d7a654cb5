import type { Scenario } from '../lib/scenario';
import { S1, S1RestateSdk, S2, S3 } from './compare.bench';
import { workerScenario } from './worker.bench';

/** Every scenario, in the order a full `npm run bench` runs them. */
export const SCENARIOS: Scenario[] = [workerScenario, S1, S1RestateSdk, S2, S3];
