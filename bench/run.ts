// `npm run bench`: runs the benchmark scenarios against the local Kafka and Postgres (which the
// npm script brings up first), prints a summary table on stdout (progress goes to stderr) and
// merges the results into bench/results/latest.json. See docs/benchmarks.md.
import 'reflect-metadata';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs, USAGE } from './lib/args';
import { runCompare } from './lib/compare';
import { ROOT } from './lib/processes';
import { Progress } from './lib/progress';
import {
  formatTable,
  machineInfo,
  RESULTS_FILE,
  ResultRow,
  ScenarioResult,
  writeResults,
} from './lib/results';
import type { Scenario, ScenarioContext } from './lib/scenario';
import { SCENARIOS } from './scenarios';

async function runScenario(
  scenario: Scenario,
  args: ReturnType<typeof parseArgs>,
  command: string,
): Promise<ScenarioResult> {
  const workDir = path.join(ROOT, 'bench/results', `${scenario.name}.tmp`);
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  const progress = new Progress(scenario.name);
  const cleanups: { what: string; step: () => unknown }[] = [];
  const ctx: ScenarioContext = {
    args,
    scale: args.quick ? 0.1 : 1,
    workDir,
    progress,
    defer: (what, step) => cleanups.push({ what, step }),
  };
  const machine = await machineInfo();
  const startedAt = new Date().toISOString();
  progress.log(`${scenario.description}${args.quick ? ' (--quick: a tenth of the size)' : ''}`);
  try {
    const outcome = await scenario.run(ctx);
    return {
      scenario: scenario.name,
      description: scenario.description,
      quick: args.quick,
      profiled: args.profile,
      startedAt,
      finishedAt: new Date().toISOString(),
      command,
      machine,
      rows: outcome.rows,
      details: outcome.details,
    };
  } finally {
    progress.clear();
    for (const { what, step } of cleanups.reverse()) {
      try {
        await step();
      } catch (err) {
        progress.log(
          `cleanup '${what}' failed: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    }
  }
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(
      `${USAGE}\nscenarios:\n${SCENARIOS.map((s) => `  ${s.name.padEnd(15)} ${s.description}`).join('\n')}\n`,
    );
    return 0;
  }
  const unknown = args.only.filter((name) => !SCENARIOS.some((s) => s.name === name));
  if (unknown.length > 0) {
    process.stderr.write(
      `unknown scenario ${unknown.map((u) => `'${u}'`).join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}\n`,
    );
    return 2;
  }
  if (args.compare !== undefined) {
    return runCompare(args.compare, withoutCompare(process.argv.slice(2)));
  }
  // A full run leaves out the opt-in scenarios (scale-out starts a 3-broker cluster).
  const selected = SCENARIOS.filter((s) =>
    args.only.length === 0 ? !s.optIn : args.only.includes(s.name),
  );
  const command = [
    'npm run bench',
    ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : []),
  ].join(' ');

  const results: ScenarioResult[] = [];
  const failed: string[] = [];
  for (const scenario of selected) {
    try {
      const result = await runScenario(scenario, args, command);
      results.push(result);
      // Written after each scenario, so a later failure keeps the figures already measured.
      writeResults([result]);
    } catch (err) {
      failed.push(scenario.name);
      process.stderr.write(
        `[${scenario.name}] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
    }
  }
  const rows: ResultRow[] = results.flatMap((r) => r.rows);
  if (rows.length > 0) {
    const m = results[0].machine;
    process.stdout.write(
      `\n${formatTable(rows)}\n\n${m.cpus} x ${m.cpuModel}, ${m.memoryGiB} GiB, node ${m.node}; before the run: load ${m.loadAverageAtStart.join(' ')}, CPU ${m.cpuBusyBeforeStartPercent ?? '?'}% busy` +
        `${args.quick ? '; --quick (a tenth of the size)' : ''}\nresults merged into ${path.relative(process.cwd(), RESULTS_FILE)}\n`,
    );
  }
  if (failed.length > 0) {
    process.stderr.write(`failed: ${failed.join(', ')}\n`);
    return 1;
  }
  return 0;
}

/** The arguments minus `--compare <ref>` / `--compare=<ref>`: what each side of a comparison runs. */
function withoutCompare(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--compare') i++;
    else if (!argv[i].startsWith('--compare=')) out.push(argv[i]);
  }
  return out;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(
      `bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
