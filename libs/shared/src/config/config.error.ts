/** One bad setting: where it is (`ingress.kafka-clusters[1].brokers`) and what to do about it. */
export interface ConfigProblem {
  path: string;
  message: string;
}

function formatProblems(problems: readonly ConfigProblem[], source: string | undefined): string {
  const where = source === undefined ? '' : ` (${source})`;
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  const lines = problems.map(({ path, message }) => `  ${path}: ${message}`);
  return [`invalid Tributary configuration${where}, ${count}:`, ...lines].join('\n');
}

/**
 * Every problem found in the configuration, not just the first, so one edit fixes them all.
 * The message is ready to print: a header, then one `path: what to fix` line per problem.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(
    readonly problems: readonly ConfigProblem[],
    /** Where the configuration came from, e.g. `config file /etc/tributary.toml`. */
    readonly source?: string,
  ) {
    super(formatProblems(problems, source));
  }
}

/** Printable text for a failure to load configuration (a ConfigError's message as is). */
export function formatConfigError(error: unknown): string {
  if (error instanceof ConfigError) return error.message;
  return `invalid Tributary configuration: ${error instanceof Error ? error.message : String(error)}`;
}
