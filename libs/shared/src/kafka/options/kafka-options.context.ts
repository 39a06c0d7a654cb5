import type { SecurityProtocol } from './broker-address.parser';
import { isSecretKey, MASKED_VALUE } from './kafka-options.secrets';
import type { KafkaOptionScope, KafkaOptionsTranslation, TlsSettings } from './kafka-options.types';

/** One option as the user wrote it (the key may be an alias of the property it sets). */
export interface GivenOption {
  key: string;
  value: string;
}

/** Inputs that only make sense together; resolved once every option has been read. */
export interface SecurityInputs {
  protocol?: SecurityProtocol;
  /** From `SSL://`-style broker prefixes, used when `security.protocol` is not given. */
  impliedProtocol?: SecurityProtocol;
  mechanism?: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  username?: string;
  password?: string;
  /** Keys given that only matter with a SASL protocol / a TLS protocol. */
  saslKeys: string[];
  tlsKeys: string[];
}

/** A value as it may appear in a message: secrets never do. */
export function shown(key: string, value: string): string {
  return isSecretKey(key) ? MASKED_VALUE : `'${value}'`;
}

/**
 * Errors kept word for word; past these, only how many more there were. Enough to fix a config
 * by, and a bounded message however many keys a request sends.
 */
export const MAX_REPORTED_ERRORS = 20;
/** Unknown keys that get a "did you mean" (each costs a comparison with every known key). */
export const MAX_SUGGESTIONS = 5;

/** The translation being built, plus the helpers every option handler needs. */
export class TranslationContext {
  readonly result: KafkaOptionsTranslation = {
    client: {},
    consumer: {},
    producer: {},
    subscription: {},
    extensions: {},
    warnings: [],
    errors: [],
  };
  readonly security: SecurityInputs = { saslKeys: [], tlsKeys: [] };
  private errorCount = 0;
  private suggestionsLeft = MAX_SUGGESTIONS;

  constructor(readonly scope: KafkaOptionScope) {}

  error(message: string): void {
    this.errorCount += 1;
    if (this.errorCount <= MAX_REPORTED_ERRORS) this.result.errors.push(message);
  }

  /** True for the first few unknown keys only: whether to look for a likely typo. */
  takeSuggestion(): boolean {
    if (this.suggestionsLeft === 0) return false;
    this.suggestionsLeft -= 1;
    return true;
  }

  /** Closes the error list: a last entry counts the errors not listed. */
  finish(): void {
    const unlisted = this.errorCount - this.result.errors.length;
    if (unlisted > 0) this.result.errors.push(`and ${unlisted} more errors not listed`);
  }

  warn(message: string): void {
    this.result.warnings.push(message);
  }

  /**
   * A requirement another layer may still satisfy (cluster properties and subscription options
   * are merged before a consumer starts): an error once merged, a hint on a cluster.
   */
  incomplete(message: string): void {
    if (this.scope === 'merged') this.error(message);
    if (this.scope === 'cluster')
      this.warn(`${message}; subscriptions on this cluster must set it`);
  }

  /** The value as a non-negative integer, or undefined after recording why it is not one. */
  int({ key, value }: GivenOption): number | undefined {
    const text = value.trim();
    const n = Number(text);
    if (/^\d+$/.test(text) && Number.isSafeInteger(n)) return n;
    this.error(`option '${key}' must be a non-negative integer; got ${shown(key, value)}`);
    return undefined;
  }

  /** librdkafka's booleans: true/t/1 and false/f/0, any case. */
  bool({ key, value }: GivenOption): boolean | undefined {
    const text = value.trim().toLowerCase();
    if (['true', 't', '1'].includes(text)) return true;
    if (['false', 'f', '0'].includes(text)) return false;
    this.error(`option '${key}' must be true or false; got ${shown(key, value)}`);
    return undefined;
  }

  /** The lower-cased value when it is one of `allowed`, else undefined after recording why. */
  oneOf<T extends string>({ key, value }: GivenOption, allowed: readonly T[]): T | undefined {
    const text = value.trim().toLowerCase();
    const match = allowed.find((candidate) => candidate === text);
    if (match === undefined) {
      this.error(
        `option '${key}' has an unsupported value ${shown(key, value)}: use one of ${allowed.join(', ')}`,
      );
    }
    return match;
  }

  tls(): TlsSettings {
    this.result.client.tls ??= {};
    return this.result.client.tls;
  }
}
