import type { SecurityProtocol } from './broker-address.parser';
import type { TranslationContext } from './kafka-options.context';

const SASL_PROTOCOLS: readonly SecurityProtocol[] = ['sasl_plaintext', 'sasl_ssl'];
const TLS_PROTOCOLS: readonly SecurityProtocol[] = ['ssl', 'sasl_ssl'];

/** Builds kafkajs `sasl` from the mechanism and credentials, or says what is missing. */
function applySasl(ctx: TranslationContext, protocol: SecurityProtocol): void {
  const { mechanism, username, password } = ctx.security;
  const needs = `security.protocol '${protocol}' needs`;
  if (mechanism === undefined) {
    ctx.incomplete(
      `${needs} sasl.mechanism (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; librdkafka's default GSSAPI is not supported)`,
    );
  }
  if (username === undefined) ctx.incomplete(`${needs} sasl.username`);
  if (password === undefined) ctx.incomplete(`${needs} sasl.password`);
  if (mechanism !== undefined && username !== undefined && password !== undefined) {
    ctx.result.client.sasl = { mechanism, username, password };
  }
}

function warnUnused(ctx: TranslationContext, keys: string[], needed: string): void {
  for (const key of keys) {
    ctx.warn(`option '${key}' has no effect unless security.protocol is ${needed}; ignored`);
  }
}

/** A broker scheme that contradicts an explicit `security.protocol` is almost surely a mistake. */
function warnProtocolMismatch(ctx: TranslationContext): void {
  const { protocol, impliedProtocol } = ctx.security;
  if (protocol === undefined || impliedProtocol === undefined || protocol === impliedProtocol) {
    return;
  }
  ctx.warn(
    `brokers are written as ${impliedProtocol.toUpperCase()}:// but security.protocol is '${protocol}'; using '${protocol}'`,
  );
}

/**
 * Resolves the security settings once all options are read, since they depend on each other:
 * an explicit `security.protocol` wins over a broker scheme, SASL needs all of mechanism, user
 * and password, and SASL/TLS options under a protocol that does not use them are reported.
 */
export function applySecurity(ctx: TranslationContext): void {
  warnProtocolMismatch(ctx);
  const protocol = ctx.security.protocol ?? ctx.security.impliedProtocol;
  if (protocol !== undefined) ctx.result.client.ssl = TLS_PROTOCOLS.includes(protocol);
  // Without a protocol, a partial option set may still get one from the other layer.
  const settled = protocol !== undefined || ctx.scope === 'merged';
  const effective = protocol ?? 'plaintext';
  if (SASL_PROTOCOLS.includes(effective)) applySasl(ctx, effective);
  else if (settled) warnUnused(ctx, ctx.security.saslKeys, 'sasl_plaintext or sasl_ssl');
  if (settled && !TLS_PROTOCOLS.includes(effective)) {
    warnUnused(ctx, ctx.security.tlsKeys, 'ssl or sasl_ssl');
  }
}
