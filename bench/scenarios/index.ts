import type { Scenario } from '../lib/scenario';
import { workerScenario } from './worker.bench';

/** Every scenario, in the order a full `npm run bench` runs them. */
export const SCENARIOS: Scenario[] = [workerScenario];
