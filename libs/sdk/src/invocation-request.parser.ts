import { InvocationRequest } from './protocol';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isStringMap = (v: unknown): v is Record<string, string> =>
  isObject(v) && Object.values(v).every((x) => typeof x === 'string');

/** The request body checked field by field; a string says what is wrong. */
export function parseInvocationRequest(raw: unknown): InvocationRequest | string {
  if (!isObject(raw)) return 'the body is not a JSON object';
  const strings = ['invocationId', 'service', 'handler', 'key', 'body'] as const;
  const missing = strings.find((f) => typeof raw[f] !== 'string');
  if (missing) return `'${missing}' must be a string`;
  if (!Number.isInteger(raw.attempt)) return "'attempt' must be an integer";
  if (!isStringMap(raw.headers ?? {})) return "'headers' must map names to strings";
  if (!isStringMap(raw.rawHeaders ?? {})) return "'rawHeaders' must map names to base64 strings";
  if (raw.state !== undefined && !isStringMap(raw.state)) {
    return "'state' must map names to base64 strings";
  }
  if (raw.contentType !== undefined && typeof raw.contentType !== 'string') {
    return "'contentType' must be a string";
  }
  return { headers: {}, rawHeaders: {}, ...raw } as unknown as InvocationRequest;
}
