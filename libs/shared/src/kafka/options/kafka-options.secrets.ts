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
