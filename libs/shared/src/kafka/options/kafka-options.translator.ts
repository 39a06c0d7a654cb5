import { didYouMean } from './closest-match.util';
import { GivenOption, shown, TranslationContext } from './kafka-options.context';
import { OPTION_HANDLERS } from './kafka-options.handlers';
import { applySecurity } from './kafka-options.security';
import type { KafkaOptionsTranslation, TranslateOptions } from './kafka-options.types';
import {
  canonicalLibrdkafkaKey,
  LIBRDKAFKA_API_ONLY_KEYS,
  LIBRDKAFKA_KEYS,
} from './librdkafka-keys';
import {
  checkTributaryOption,
  TRIBUTARY_OPTION_KEYS,
  TRIBUTARY_OPTION_PREFIX,
} from './tributary-options.registry';

const OFFSETS_ARE_OURS =
  'Tributary commits offsets itself, after the invocation of each record is durable';

/** Why a real librdkafka property changes nothing here, when there is more to say than "no effect". */
const IGNORED_BECAUSE: Readonly<Record<string, string>> = {
  'auto.commit.enable': OFFSETS_ARE_OURS,
  'enable.auto.offset.store': OFFSETS_ARE_OURS,
  'auto.commit.interval.ms': OFFSETS_ARE_OURS,
  'partition.assignment.strategy':
    "Tributary assigns partitions with its own assigner, TributarySpread (round robin over the group's members from a start chosen by the group id, so small subscriptions spread across workers)",
  'group.instance.id': 'kafkajs has no static group membership',
  'group.protocol': 'kafkajs speaks the classic consumer group protocol only',
};

function ignoredWarning({ key }: GivenOption, property: string): string {
  const because = IGNORED_BECAUSE[property];
  if (because === undefined) {
    return `option '${key}' is a librdkafka setting with no effect in Tributary; ignored`;
  }
  return `option '${key}' is ignored: ${because}`;
}

function acceptExtension(ctx: TranslationContext, { key, value }: GivenOption): void {
  if (!TRIBUTARY_OPTION_KEYS.has(key)) {
    const known = [...TRIBUTARY_OPTION_KEYS].join(', ');
    const hint = ctx.takeSuggestion() ? didYouMean(key, TRIBUTARY_OPTION_KEYS) : '';
    ctx.error(`unknown option '${key}': not a Tributary option (known: ${known})${hint}`);
  } else if (ctx.scope === 'cluster') {
    ctx.error(`option '${key}' belongs in a subscription's options, not in cluster properties`);
  } else {
    const problem = checkTributaryOption(key, value);
    if (problem === undefined) ctx.result.extensions[key] = value;
    else ctx.error(`option '${key}' ${problem}`);
  }
}

/**
 * Sorts the input into librdkafka properties (aliases resolved), Tributary extensions and
 * errors. Two spellings of one property (e.g. `sasl.mechanism` and `sasl.mechanisms`) must agree.
 */
function collect(ctx: TranslationContext, props: Readonly<Record<string, string>>) {
  const byProperty = new Map<string, GivenOption>();
  for (const [key, value] of Object.entries(props)) {
    // Types say string, but options often arrive as parsed JSON.
    if (typeof value !== 'string') {
      ctx.error(
        `option '${key}' must be a string, as all librdkafka values are; got ${typeof value}`,
      );
      continue;
    }
    if (key.startsWith(TRIBUTARY_OPTION_PREFIX)) {
      acceptExtension(ctx, { key, value });
      continue;
    }
    if (LIBRDKAFKA_API_ONLY_KEYS.has(key)) {
      ctx.error(
        `option '${key}' cannot be set in configuration: librdkafka takes it from code only`,
      );
      continue;
    }
    const property = canonicalLibrdkafkaKey(key);
    if (property === undefined) {
      const hint = ctx.takeSuggestion() ? didYouMean(key, LIBRDKAFKA_KEYS) : '';
      ctx.error(`unknown option '${key}': not a librdkafka configuration property${hint}`);
      continue;
    }
    const earlier = byProperty.get(property);
    if (earlier !== undefined && earlier.value !== value) {
      ctx.error(
        `options '${earlier.key}' and '${key}' set the same librdkafka property to different values (${shown(key, earlier.value)} and ${shown(key, value)}); keep one`,
      );
      continue;
    }
    byProperty.set(property, { key, value });
  }
  return byProperty;
}

/**
 * Translates librdkafka configuration (cluster properties and/or subscription options) into
 * kafkajs settings. Never throws and never reads files: problems come back in `errors`, keys
 * without an effect in `warnings`, and TLS files as paths for `buildKafkaConfig` to read. Linear
 * in the number of keys: only the first few unknown keys get a "did you mean", and only the first
 * MAX_REPORTED_ERRORS errors are listed (then how many more there were).
 */
export function translateKafkaOptions(
  props: Readonly<Record<string, string>>,
  options: TranslateOptions = {},
): KafkaOptionsTranslation {
  const ctx = new TranslationContext(options.scope ?? 'merged');
  const byProperty = collect(ctx, props);
  // Handlers run in table order, not input order, so precedence between keys is fixed.
  for (const [property, handler] of OPTION_HANDLERS) {
    const option = byProperty.get(property);
    if (option !== undefined) handler(ctx, option);
  }
  for (const [property, option] of byProperty) {
    if (!OPTION_HANDLERS.has(property)) ctx.warn(ignoredWarning(option, property));
  }
  applySecurity(ctx);
  ctx.finish();
  return ctx.result;
}
