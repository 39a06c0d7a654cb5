import { ValidateBy, ValidationArguments } from 'class-validator';
import { parseBrokerList } from '../kafka/options';
import { parseDuration } from './duration.parser';

/** A value as a message shows it: strings quoted, lists and tables by kind. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Date) return 'a date';
  if (typeof value === 'object' && value !== null) return 'a table';
  return String(value);
}

/**
 * One config rule: a check and the sentence that says what to write instead. Each property gets
 * exactly one rule, so a bad value yields exactly one line in the error.
 */
function configRule(
  name: string,
  check: (value: unknown) => boolean,
  message: (value: unknown) => string,
): PropertyDecorator {
  return ValidateBy({
    name,
    validator: {
      validate: (value: unknown) => check(value),
      defaultMessage: (args?: ValidationArguments) => message(args?.value),
    },
  });
}

/** For values that must not be echoed back (URLs with passwords, tokens, keys). */
const secretValue = (): string => 'a secret, not shown';

export function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

export function IsDuration(): PropertyDecorator {
  return configRule(
    'isDuration',
    (value) => typeof value === 'string' && parseDuration(value) !== undefined,
    (value) =>
      `must be a duration such as "500ms", "10s", "5m", "24h" or "1h30m"; got ${describeValue(value)}`,
  );
}

export function IsBindAddress(): PropertyDecorator {
  const address = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/;
  return configRule(
    'isBindAddress',
    (value) => {
      const match = typeof value === 'string' ? address.exec(value) : null;
      return match !== null && Number(match[2]) <= 65535;
    },
    (value) => `must be "host:port", e.g. "0.0.0.0:9070"; got ${describeValue(value)}`,
  );
}

export function IsPositiveInteger(): PropertyDecorator {
  return configRule(
    'isPositiveInteger',
    (value) => Number.isSafeInteger(value) && (value as number) > 0,
    (value) => `must be a positive whole number; got ${describeValue(value)}`,
  );
}

export function IsNumberAtLeast(min: number): PropertyDecorator {
  return configRule(
    'isNumberAtLeast',
    (value) => typeof value === 'number' && Number.isFinite(value) && value >= min,
    (value) => `must be a number of at least ${min}; got ${describeValue(value)}`,
  );
}

export function IsBoolean(): PropertyDecorator {
  return configRule(
    'isBoolean',
    (value) => typeof value === 'boolean',
    (value) => `must be true or false (without quotes); got ${describeValue(value)}`,
  );
}

/** An http:// or https:// URL, e.g. an OTLP collector's. */
export function IsHttpUrl(): PropertyDecorator {
  return configRule(
    'isHttpUrl',
    (value) =>
      typeof value === 'string' &&
      URL.canParse(value) &&
      ['http:', 'https:'].includes(new URL(value).protocol),
    (value) =>
      `must be an http:// or https:// URL, e.g. "http://127.0.0.1:4318"; got ${describeValue(value)}`,
  );
}

export function IsNonEmptyString(opts: { secret?: boolean } = {}): PropertyDecorator {
  return configRule(
    'isNonEmptyString',
    (value) => typeof value === 'string' && value.trim() !== '',
    (value) =>
      `must be a non-empty string; got ${opts.secret ? secretValue() : describeValue(value)}`,
  );
}

export function IsOneOf(allowed: readonly string[]): PropertyDecorator {
  const quoted = allowed.map((item) => `"${item}"`);
  const list =
    quoted.length > 1 ? `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}` : quoted.join('');
  return configRule(
    'isOneOf',
    (value) => typeof value === 'string' && allowed.includes(value),
    (value) => `must be ${list}; got ${describeValue(value)}`,
  );
}

export function IsMatching(pattern: RegExp, what: string): PropertyDecorator {
  return configRule(
    'isMatching',
    (value) => typeof value === 'string' && pattern.test(value),
    (value) => `must be ${what}; got ${describeValue(value)}`,
  );
}

export function IsSecretList(): PropertyDecorator {
  return configRule(
    'isSecretList',
    (value) => isStringList(value) && value.every((item) => item !== ''),
    () => 'must be a list of non-empty strings, e.g. tokens = ["a-long-random-token"]',
  );
}

export function IsPostgresUrl(): PropertyDecorator {
  return configRule(
    'isPostgresUrl',
    (value) => {
      if (typeof value !== 'string' || !URL.canParse(value)) return false;
      return ['postgres:', 'postgresql:'].includes(new URL(value).protocol);
    },
    () => 'must be a postgres:// URL, e.g. "postgres://postgres@127.0.0.1:5432/tributary"',
  );
}

export function IsPostgresUrlList(): PropertyDecorator {
  const isUrl = (v: string): boolean =>
    URL.canParse(v) && ['postgres:', 'postgresql:'].includes(new URL(v).protocol);
  return configRule(
    'isPostgresUrlList',
    (value) =>
      isStringList(value) &&
      value.length > 0 &&
      value.every(isUrl) &&
      new Set(value).size === value.length,
    // Never the value: a URL may hold a password.
    () =>
      'must be a list of distinct postgres:// URLs, one per shard, e.g. ["postgres://postgres@127.0.0.1:5432/tributary", "postgres://postgres@127.0.0.1:5433/tributary"]',
  );
}

export function IsBrokerList(): PropertyDecorator {
  return configRule(
    'isBrokerList',
    (value) => isStringList(value) && parseBrokerList(value).errors.length === 0,
    (value) =>
      isStringList(value)
        ? parseBrokerList(value).errors.join('; ')
        : `must be a list of "host:port" strings, e.g. ["127.0.0.1:9092"]; got ${describeValue(value)}`,
  );
}

/** `host`, `host:port`, or `*.domain` (any subdomain): what `admin.deployment-hosts` lists. */
export const HOST_PATTERN =
  /^(\*\.)?([A-Za-z0-9-]+\.)*[A-Za-z0-9-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

export function IsHostPatternList(): PropertyDecorator {
  return configRule(
    'isHostPatternList',
    (value) =>
      isStringList(value) &&
      value.every(
        (item) => HOST_PATTERN.test(item) && URL.canParse(`http://${item.replace(/^\*\./, 'x.')}/`),
      ),
    (value) =>
      `must be a list of hosts such as ["handlers.internal", "10.0.0.5:9080", "*.svc.cluster.local"]; got ${describeValue(value)}`,
  );
}
