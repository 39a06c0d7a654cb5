import { registerDecorator, ValidationOptions } from 'class-validator';

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Visible ASCII, space, tab and obs-text; no CR, LF or NUL (they would split the request).
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

// URL() would trim or escape them, but the URI is stored and used as given.
const CONTROL_OR_SPACE = /[\s\p{Cc}]/u;

function isHttpUri(value: unknown): boolean {
  if (typeof value !== 'string' || CONTROL_OR_SPACE.test(value)) return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

function isHeaderMap(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  return Object.entries(value).every(
    ([name, v]) => HEADER_NAME.test(name) && typeof v === 'string' && HEADER_VALUE.test(v),
  );
}

function isStringMap(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  return Object.values(value).every((v) => typeof v === 'string');
}

function decorator(
  name: string,
  test: (value: unknown) => boolean,
  message: string,
  options?: ValidationOptions,
): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name,
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message, ...options },
      validator: { validate: test },
    });
  };
}

/** An absolute `http://` or `https://` URI with a host. */
export function IsHttpUri(options?: ValidationOptions): PropertyDecorator {
  return decorator(
    'isHttpUri',
    isHttpUri,
    '$property must be an absolute http:// or https:// URI of the deployment, e.g. http://localhost:9080',
    options,
  );
}

/** An object of HTTP header names to string values. */
export function IsHeaderMap(options?: ValidationOptions): PropertyDecorator {
  return decorator(
    'isHeaderMap',
    isHeaderMap,
    '$property must be an object of HTTP header names to string values (no line breaks)',
    options,
  );
}

export function IsStringMap(options?: ValidationOptions): PropertyDecorator {
  return decorator(
    'isStringMap',
    isStringMap,
    '$property must be an object of string values',
    options,
  );
}
