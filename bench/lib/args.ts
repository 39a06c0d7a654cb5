/** Command-line options of `npm run bench`. */
export interface BenchArgs {
  /** A tenth of every scenario's size: a smoke run, not a measurement to quote. */
  quick: boolean;
  /** Scenario names to run; empty means all of them. */
  only: string[];
  /** Writes a V8 CPU profile of each Tributary process and prints where its time went. */
  profile: boolean;
  /** A git ref: run the scenarios on that commit and on the working tree, back to back. */
  compare?: string;
  help: boolean;
}

export const USAGE = `usage: npm run bench -- [--quick] [--only <scenario>[,<scenario>...]] [--profile]
                           [--compare <git-ref>]

  --quick      a tenth of each scenario's size (smoke run)
  --only       run only these scenarios (repeatable or comma-separated)
  --profile    run the Tributary processes under node --cpu-prof and summarise the profile
  --compare    run the same on <git-ref> (a temporary worktree) and on the working tree, back to
               back, and print both with the ratio new / old
`;

export function parseArgs(argv: readonly string[]): BenchArgs {
  const args: BenchArgs = { quick: false, only: [], profile: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? arg.split(/=(.*)/s) : [arg];
    switch (flag) {
      case '--quick':
        args.quick = true;
        break;
      case '--profile':
        args.profile = true;
        break;
      case '--compare': {
        const value = inline ?? argv[++i];
        if (value === undefined || value.startsWith('--') || value === '') {
          throw new Error('--compare needs a git ref (a commit, branch or tag)');
        }
        args.compare = value;
        break;
      }
      case '--help':
      case '-h':
        args.help = true;
        break;
      case '--only': {
        const value = inline ?? argv[++i];
        if (value === undefined || value.startsWith('--')) {
          throw new Error('--only needs a scenario name');
        }
        args.only.push(
          ...value
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
        );
        break;
      }
      default:
        throw new Error(`unknown argument '${arg}'`);
    }
  }
  return args;
}
