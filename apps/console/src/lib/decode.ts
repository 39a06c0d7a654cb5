/** How the console shows bytes whose meaning it does not know: JSON, UTF-8 text or hex. */

export type Rendering = 'json' | 'text' | 'hex';

export interface Decoded {
  /** The best rendering for these bytes. */
  kind: Rendering;
  text: string;
}

/** Lowercase hex, 16 bytes to a line with their offset, as `xxd` shows them. */
export function toHex(bytes: Uint8Array, maxBytes = 4096): string {
  const lines: string[] = [];
  const n = Math.min(bytes.length, maxBytes);
  for (let at = 0; at < n; at += 16) {
    const row = Array.from(bytes.subarray(at, Math.min(at + 16, n)), (b) =>
      b.toString(16).padStart(2, '0'),
    );
    lines.push(`${at.toString(16).padStart(8, '0')}  ${row.join(' ')}`);
  }
  if (bytes.length > n) lines.push(`... ${bytes.length - n} more bytes`);
  return lines.join('\n');
}

/** The text when `bytes` are valid UTF-8 without control characters other than whitespace. */
export function asUtf8(bytes: Uint8Array): string | null {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
  // eslint-disable-next-line no-control-regex -- exactly what is looked for
  return /[\u0000-\u0008\u000b\u000e-\u001f\u007f]/.test(text) ? null : text;
}

/**
 * JSON pretty-printed when the bytes parse as JSON (and the content type does not say
 * otherwise), else UTF-8 text, else hex.
 */
export function decodeBytes(bytes: Uint8Array, contentType?: string | null): Decoded {
  const text = asUtf8(bytes);
  if (text === null) return { kind: 'hex', text: toHex(bytes) };
  const type = (contentType ?? '').toLowerCase();
  // Records rarely say what they hold: bytes without a type may well be JSON.
  const maybeJson =
    type === '' || type.includes('json') || type.startsWith('application/octet-stream');
  if (maybeJson && text.trim() !== '') {
    try {
      return { kind: 'json', text: JSON.stringify(JSON.parse(text), null, 2) };
    } catch {
      // not JSON after all
    }
  }
  return { kind: 'text', text };
}

/** Base64 (as the admin API sends binary values) to bytes. */
export function fromBase64(value: string): Uint8Array {
  const binary = atob(value);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The headers an invocation carries, split into Kafka's record metadata and the record's own. */
export function splitHeaders(headers: Record<string, string>): {
  kafka: [string, string][];
  record: [string, string][];
} {
  const entries = Object.entries(headers).sort(([a], [b]) => a.localeCompare(b));
  const isMeta = (k: string) => k.startsWith('kafka.') || k.startsWith('restate.');
  return {
    kafka: entries.filter(([k]) => isMeta(k)),
    record: entries.filter(([k]) => !isMeta(k)),
  };
}
