import { ClassConstructor, plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync, ValidationError } from 'class-validator';
import { didYouMean } from '../kafka/options';
import type { ConfigProblem } from './config.error';

export type TomlTable = Record<string, unknown>;

export function isTable(value: unknown): value is TomlTable {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date)
  );
}

const toCamel = (key: string): string =>
  key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
const toKebab = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** The TOML keys a section class declares, kebab-case, as the file writes them. */
export function knownKeys(cls: ClassConstructor<object>): string[] {
  const metadata = getMetadataStorage().getTargetValidationMetadatas(cls, '', true, false);
  return [...new Set(metadata.map((m) => toKebab(m.propertyName)))];
}

function unknownKey(path: string, key: string, known: string[]): ConfigProblem {
  return {
    path: `${path}.${key}`,
    message: `unknown key${didYouMean(key, known)} (known keys here: ${known.join(', ')})`,
  };
}

/**
 * kebab-case keys to camelCase, recursively. Keys with capitals are reported as unknown here:
 * `bindAddress` would otherwise pass for `bind-address`, defeating typo protection.
 */
function camelize(raw: TomlTable, path: string, problems: ConfigProblem[]): TomlTable {
  const out: TomlTable = {};
  for (const [key, value] of Object.entries(raw)) {
    if (/[A-Z]/.test(key)) {
      const kebab = toKebab(key).replace(/_/g, '-');
      problems.push({
        path: `${path}.${key}`,
        message: `unknown key; keys are kebab-case ('${kebab}')`,
      });
      continue;
    }
    out[toCamel(key)] = isTable(value) ? camelize(value, `${path}.${key}`, problems) : value;
  }
  return out;
}

/** class-validator's error tree as `path: message` lines, one per bad key. */
function flatten(errors: ValidationError[], path: string, problems: ConfigProblem[]): void {
  for (const error of errors) {
    const key = toKebab(error.property);
    const constraints = Object.entries(error.constraints ?? {});
    if (constraints.some(([type]) => type === 'whitelistValidation')) {
      const cls = (error.target as object).constructor as ClassConstructor<object>;
      problems.push(unknownKey(path, key, knownKeys(cls)));
    } else if (constraints.length > 0) {
      // The first rule of a key is the one that failed (others are follow-ups on the same value).
      problems.push({ path: `${path}.${key}`, message: constraints[0][1] });
    } else {
      flatten(error.children ?? [], `${path}.${key}`, problems);
    }
  }
}

/**
 * Validates one TOML section against its class and returns the typed section, adding a problem
 * per bad or unknown key (the section is only usable when no problem was added).
 */
export function validateSection<T extends object>(
  cls: ClassConstructor<T>,
  raw: unknown,
  path: string,
  problems: ConfigProblem[],
): T {
  if (raw === undefined) return new cls();
  if (!isTable(raw)) {
    problems.push({ path, message: `must be a table, e.g. [${path}]` });
    return new cls();
  }
  const instance = plainToInstance(cls, camelize(raw, path, problems));
  const errors = validateSync(instance, {
    whitelist: true,
    forbidNonWhitelisted: true,
    stopAtFirstError: true,
  });
  flatten(errors, path, problems);
  return instance;
}
