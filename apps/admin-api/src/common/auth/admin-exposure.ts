import { isIP } from 'node:net';
import { parseBindAddress } from '@tributary/shared';

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1 and `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  switch (isIP(h)) {
    case 4:
      return h.startsWith('127.');
    case 6:
      return h === '::1' || /^(0{1,4}:){7}0{0,3}1$/.test(h) || /^::ffff:127\./.test(h);
    default:
      return false;
  }
}

export interface AdminExposure {
  level: 'log' | 'warn';
  message: string;
}

/**
 * What the admin API says at start about who can call it. Without tokens it is open to whoever
 * reaches its address: fine on loopback (the default), a risk on any other address, which the
 * operator has chosen explicitly through admin.bind-address.
 */
export function describeAdminExposure(
  bindAddress: string,
  tokens: readonly string[],
): AdminExposure {
  if (tokens.length > 0) {
    const n = tokens.length;
    return {
      level: 'log',
      message: `admin API requires a bearer token (${n} token${n === 1 ? '' : 's'} in admin.tokens); GET /health is open`,
    };
  }
  const { host } = parseBindAddress(bindAddress);
  if (isLoopbackHost(host)) {
    return {
      level: 'warn',
      message: `admin API is unauthenticated (no admin.tokens) and listening on ${bindAddress}: only this machine can reach it. Set admin.tokens before binding it to another address.`,
    };
  }
  return {
    level: 'warn',
    message: `SECURITY RISK: admin API is unauthenticated (no admin.tokens) and listening on ${bindAddress}, beyond this machine: anyone who can reach that address can register deployments, change Kafka clusters and subscriptions, and kill invocations. Set admin.tokens, or set admin.bind-address to 127.0.0.1:<port>.`,
  };
}
