import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse, TomlError } from 'smol-toml';
import type { ConfigProblem } from './config.error';
import type { ConfigEnv } from './config.types';
import type { SectionName } from './config.sections';
import { isTable, TomlTable } from './section.validator';

export const CONFIG_FILE_FLAG = '--config-file';
export const CONFIG_FILE_ENV = 'TRIBUTARY_CONFIG';
/** Restate's variable (from the seed), and Tributary's alias, which wins when both are set. */
export const KAFKA_CLUSTERS_ENV = 'RESTATE_INGRESS__KAFKA_CLUSTERS';
export const KAFKA_CLUSTERS_ENV_ALIAS = 'TRIBUTARY_INGRESS__KAFKA_CLUSTERS';

/** Environment variables that override one setting of the file. */
export const ENV_OVERRIDES: readonly {
  env: string;
  section: SectionName;
  key: string;
  /**
   * Comma-separated list rather than a single value; empty items are dropped, except with
   * `keepEmpty`, which leaves them for validation to refuse (a token list of `,` must not become
   * no tokens, which would open the admin API).
   */
  list?: boolean;
  keepEmpty?: boolean;
}[] = [
  { env: 'DATABASE_URL', section: 'database', key: 'url' },
  { env: 'TRIBUTARY_DATABASE_SHARDS', section: 'database', key: 'shards', list: true },
  { env: 'TRIBUTARY_ADMIN_BIND_ADDRESS', section: 'admin', key: 'bind-address' },
  { env: 'TRIBUTARY_ADMIN_TOKENS', section: 'admin', key: 'tokens', list: true, keepEmpty: true },
  { env: 'TRIBUTARY_WORKER_BIND_ADDRESS', section: 'worker', key: 'bind-address' },
  { env: 'TRIBUTARY_WORKER_ID', section: 'worker', key: 'id' },
  { env: 'TRIBUTARY_INVOKER_ID', section: 'invoker', key: 'id' },
  { env: 'TRIBUTARY_INVOKER_BIND_ADDRESS', section: 'invoker', key: 'bind-address' },
  { env: 'TRIBUTARY_SIGNING_KEY', section: 'invoker', key: 'signing-key' },
  {
    env: 'TRIBUTARY_REQUEST_IDENTITY_PRIVATE_KEY_PEM_FILE',
    section: 'invoker',
    key: 'request-identity-private-key-pem-file',
  },
  { env: 'TRIBUTARY_BUS_BROKERS', section: 'bus', key: 'brokers', list: true },
  { env: 'TRIBUTARY_LOG_FORMAT', section: 'log', key: 'format' },
  { env: 'TRIBUTARY_LOG_LEVEL', section: 'log', key: 'level' },
];

/** An environment variable's value; empty counts as unset, as shells make that easy to do. */
export function envValue(env: ConfigEnv, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value;
}

export interface ConfigFileChoice {
  /** Absolute path, when a file was asked for. */
  path?: string;
  /** What asked for it: the flag or the variable, for messages. */
  origin?: string;
  problem?: ConfigProblem;
}

/** `--config-file <path>` / `--config-file=<path>` (last one wins), else TRIBUTARY_CONFIG. */
export function chooseConfigFile(argv: readonly string[], env: ConfigEnv): ConfigFileChoice {
  let given: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg.startsWith(`${CONFIG_FILE_FLAG}=`)) given = arg.slice(CONFIG_FILE_FLAG.length + 1);
    else if (arg === CONFIG_FILE_FLAG) given = argv[++i] ?? '';
  }
  if (given !== undefined) {
    if (given === '' || given.startsWith('--')) {
      const message = 'needs a path, e.g. --config-file tributary.toml';
      return { problem: { path: CONFIG_FILE_FLAG, message } };
    }
    return { path: resolve(given), origin: CONFIG_FILE_FLAG };
  }
  const fromEnv = envValue(env, CONFIG_FILE_ENV);
  return fromEnv === undefined ? {} : { path: resolve(fromEnv), origin: CONFIG_FILE_ENV };
}

/** The parser's reason without its code excerpt, which would break one-problem-per-line. */
function tomlReason(error: TomlError): string {
  return error.message.split('\n')[0].replace(/^Invalid TOML document: /, '');
}

/** Reads and parses the TOML file; a problem names the file and, for syntax, line and column. */
export function readConfigFile(choice: Required<Pick<ConfigFileChoice, 'path' | 'origin'>>): {
  tree?: TomlTable;
  problem?: ConfigProblem;
} {
  let text: string;
  try {
    text = readFileSync(choice.path, 'utf8');
  } catch (error: unknown) {
    const code = (error as NodeJS.ErrnoException).code;
    const message =
      code === 'ENOENT'
        ? `config file '${choice.path}' does not exist`
        : `cannot read config file '${choice.path}': ${(error as Error).message}`;
    return { problem: { path: choice.origin, message } };
  }
  try {
    return { tree: parse(text) };
  } catch (error: unknown) {
    if (!(error instanceof TomlError)) throw error;
    const where = `line ${error.line}, column ${error.column}`;
    return {
      problem: { path: choice.path, message: `not valid TOML at ${where}: ${tomlReason(error)}` },
    };
  }
}

export interface EnvClusters {
  raw?: unknown;
  /** The variable the list came from, used as the path in messages. */
  label?: string;
  problem?: ConfigProblem;
  warnings: string[];
}

const CLUSTERS_EXAMPLE = '[{name="my-cluster",brokers=["PLAINTEXT://broker:9092"]}]';

/** The cluster list from the environment: a TOML inline array, parsed as `x = <value>`. */
export function readEnvClusters(env: ConfigEnv): EnvClusters {
  const restate = envValue(env, KAFKA_CLUSTERS_ENV);
  const alias = envValue(env, KAFKA_CLUSTERS_ENV_ALIAS);
  const label = alias !== undefined ? KAFKA_CLUSTERS_ENV_ALIAS : KAFKA_CLUSTERS_ENV;
  const text = alias ?? restate;
  const warnings =
    alias !== undefined && restate !== undefined && alias !== restate
      ? [`both ${KAFKA_CLUSTERS_ENV} and ${KAFKA_CLUSTERS_ENV_ALIAS} are set; using ${label}`]
      : [];
  if (text === undefined) return { warnings };
  try {
    const parsed = parse(`x = ${text}`);
    if (Object.keys(parsed).length === 1) return { raw: parsed.x, label, warnings };
    const message = `must hold only a TOML inline array, e.g. ${CLUSTERS_EXAMPLE}`;
    return { label, problem: { path: label, message }, warnings };
  } catch (error: unknown) {
    if (!(error instanceof TomlError)) throw error;
    // The value starts 4 characters into the wrapped line ("x = ").
    const column = error.line === 1 ? error.column - 4 : error.column;
    const where = `line ${error.line}, column ${column}`;
    const message = `not a valid TOML inline array at ${where}: ${tomlReason(error)}; expected e.g. ${CLUSTERS_EXAMPLE}`;
    return { label, problem: { path: label, message }, warnings };
  }
}

/**
 * Puts environment overrides into the parsed tree (copying the sections it touches) and
 * returns, per overridden key path, the variable it came from, so messages can name it.
 */
export function applyEnvOverrides(tree: TomlTable, env: ConfigEnv): Map<string, string> {
  const origins = new Map<string, string>();
  for (const { env: name, section, key, list, keepEmpty } of ENV_OVERRIDES) {
    const value = envValue(env, name);
    const current = tree[section] ?? {};
    if (value === undefined || !isTable(current)) continue;
    const items = value.split(',').map((item) => item.trim());
    const parsed = list ? (keepEmpty ? items : items.filter(Boolean)) : value;
    tree[section] = { ...current, [key]: parsed };
    origins.set(`${section}.${key}`, name);
  }
  return origins;
}
