/**
 * `admin.deployment-hosts`: the hosts the admin API may fetch a deployment's manifest from.
 * Entries are `host`, `host:port`, `*.domain` (any subdomain of `domain`, not `domain` itself) or
 * `[ipv6]` with an optional port; an entry without a port matches any port. Hosts compare
 * case-insensitively, after the same URL parsing the discovery request uses, so `0x7f.1` and
 * `127.0.0.1` are one host and `allowed@elsewhere` is `elsewhere`.
 */
export interface HostPattern {
  /** Lower-case host name or address (IPv6 in brackets); for a wildcard, the part after `*`. */
  host: string;
  wildcard: boolean;
  /** Undefined: any port. */
  port?: number;
}

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };

/** Parses the entries (already validated by the config loader); a malformed one throws. */
export function parseHostPatterns(entries: readonly string[]): HostPattern[] {
  return entries.map(parseHostPattern);
}

function parseHostPattern(entry: string): HostPattern {
  const wildcard = entry.startsWith('*.');
  const rest = wildcard ? entry.slice(2) : entry;
  // The shortest host followed by an optional `:port`: `[::1]:9080` splits after the bracket.
  const [, host = rest, port] = /^(.*?)(?::(\d{1,5}))?$/.exec(rest) ?? [];
  return {
    host: normalHost(host, entry),
    wildcard,
    port: port === undefined ? undefined : Number(port),
  };
}

/** The host as the URL parser writes it: lower case, IPv4 dotted, IPv6 compressed. */
function normalHost(host: string, entry: string): string {
  try {
    return stripDot(new URL(`http://${host}`).hostname);
  } catch {
    throw new TypeError(`'${entry}' is not a host, host:port or *.domain`);
  }
}

function stripDot(host: string): string {
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

/** True when `url` may be fetched: no patterns, or one of them matches its host and port. */
export function isHostAllowed(url: URL, patterns: readonly HostPattern[]): boolean {
  if (patterns.length === 0) return true;
  const host = stripDot(url.hostname.toLowerCase());
  const port = url.port === '' ? DEFAULT_PORTS[url.protocol] : Number(url.port);
  return patterns.some(
    (p) =>
      (p.port === undefined || p.port === port) &&
      (p.wildcard ? host.endsWith(`.${p.host}`) : host === p.host),
  );
}
