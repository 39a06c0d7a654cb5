/** What every response and log line shows instead of a secret value. */
export const MASKED_VALUE = '***';

// Restate masks the same keys: anything that is (or points at) a credential.
const SECRET_KEY_PATTERNS: readonly RegExp[] = [
  /password/i,
  /secret/i,
  /passphrase/i,
  /^sasl\.username$/,
  /^sasl\.jaas\.config$/,
  /^sasl\.oauthbearer\.config$/,
  /^ssl\.key\./,
  /(keystore|truststore)\.location$/,
  // Not in Restate's list, but just as sensitive: a private key (or its file) and a Kerberos keytab.
  /private\.key/,
  /keytab/,
];

/** True when the value of this librdkafka key must never be shown. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY_PATTERNS.some((pattern) => pattern.test(key));
}

/** A copy of `props` with every secret value replaced by `***`. */
export function maskSecrets(props: Readonly<Record<string, string>>): Record<string, string> {
  const masked: Record<string, string> = {};
  for (const [key, value] of Object.entries(props)) {
    masked[key] = isSecretKey(key) ? MASKED_VALUE : value;
  }
  return masked;
}

/** `given` with masked secrets put back, and the masked keys that had nothing to put back. */
export interface RestoredSecrets<T> {
  values: Record<string, T | string>;
  /** Secret keys given as `***` without a stored value of that key. */
  unknown: string[];
}

/**
 * Writing back what a GET returned must not store the mask: for a secret key, `***` means "keep
 * the stored value". Keys that are not secret keep `***` as their value (it was never a mask
 * there); a masked secret key without a stored value is reported in `unknown`.
 */
export function restoreMaskedSecrets<T>(
  given: Readonly<Record<string, T>>,
  stored: Readonly<Record<string, string>>,
): RestoredSecrets<T> {
  const entries: [string, T | string][] = [];
  const unknown: string[] = [];
  for (const [key, value] of Object.entries(given)) {
    if (value === MASKED_VALUE && isSecretKey(key)) {
      if (Object.hasOwn(stored, key)) entries.push([key, stored[key]]);
      else unknown.push(key);
    } else {
      entries.push([key, value]);
    }
  }
  return { values: Object.fromEntries(entries), unknown };
}
