import {
  EndpointManifest,
  HANDLER_TYPES,
  HandlerType,
  ManifestHandler,
  ManifestRetryPolicy,
  ManifestService,
  PROTOCOL_VERSION,
  SERVICE_TYPES,
  ServiceType,
} from './protocol.types';

/** A discovered manifest that Tributary cannot use; the message says what is wrong and where. */
export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManifestError';
  }
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Validates a parsed `/discover` answer and fills in the default handler types. */
export function parseManifest(raw: unknown): EndpointManifest {
  if (!isObject(raw) || !Array.isArray(raw.services)) {
    throw new ManifestError("not a manifest: missing 'services' array");
  }
  checkProtocol(raw);
  const services = raw.services.map((s, i) => parseService(s, i));
  rejectDuplicates(
    services.map((s) => s.name),
    (name) => `service '${name}' is declared twice`,
  );
  return {
    protocolMode: 'REQUEST_RESPONSE',
    minProtocolVersion: raw.minProtocolVersion as number,
    maxProtocolVersion: raw.maxProtocolVersion as number,
    services,
  };
}

function checkProtocol(raw: Json): void {
  const mode = raw.protocolMode ?? 'REQUEST_RESPONSE';
  if (mode !== 'REQUEST_RESPONSE') {
    throw new ManifestError(
      `protocolMode '${show(mode)}' is not supported: Tributary speaks REQUEST_RESPONSE over plain HTTP (see docs/protocol.md)`,
    );
  }
  const { minProtocolVersion: min, maxProtocolVersion: max } = raw;
  if (!Number.isInteger(min) || !Number.isInteger(max)) {
    throw new ManifestError(
      "not a manifest: 'minProtocolVersion' and 'maxProtocolVersion' must be integers",
    );
  }
  if ((min as number) > PROTOCOL_VERSION || (max as number) < PROTOCOL_VERSION) {
    throw new ManifestError(
      `deployment speaks protocol versions ${show(min)}..${show(max)}, Tributary speaks ${PROTOCOL_VERSION}`,
    );
  }
}

function parseService(raw: unknown, index: number): ManifestService {
  if (!isObject(raw)) throw new ManifestError(`services[${index}] is not an object`);
  const name = requireName(raw.name, `services[${index}]`);
  const ty = raw.ty;
  if (!SERVICE_TYPES.includes(ty as ServiceType)) {
    throw new ManifestError(
      `unknown service type '${show(ty)}' for service '${name}' (expected SERVICE, VIRTUAL_OBJECT or WORKFLOW)`,
    );
  }
  if (!Array.isArray(raw.handlers)) {
    throw new ManifestError(`service '${name}' has no 'handlers' array`);
  }
  const handlers = raw.handlers.map((h, i) => parseHandler(h, i, name, ty as ServiceType));
  rejectDuplicates(
    handlers.map((h) => h.name),
    (h) => `handler '${name}/${h}' is declared twice`,
  );
  if (ty === 'WORKFLOW') checkWorkflow(name, handlers);
  return { name, ty: ty as ServiceType, handlers, ...parseRetryPolicy(raw, `service '${name}'`) };
}

const RETRY_NUMBERS = [
  'retryPolicyInitialInterval',
  'retryPolicyExponentiationFactor',
  'retryPolicyMaxInterval',
  'retryPolicyMaxAttempts',
] as const;

/** Restate's optional retry settings; kept when present, refused when of the wrong kind. */
function parseRetryPolicy(raw: Record<string, unknown>, where: string): ManifestRetryPolicy {
  const policy: ManifestRetryPolicy = {};
  for (const field of RETRY_NUMBERS) {
    const value = raw[field];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new ManifestError(
        `${where}: '${field}' must be a non-negative number, got ${show(value)}`,
      );
    }
    policy[field] = value;
  }
  const mode = raw.retryPolicyOnMaxAttempts;
  if (mode !== undefined) {
    if (mode !== 'PAUSE' && mode !== 'KILL') {
      throw new ManifestError(
        `${where}: 'retryPolicyOnMaxAttempts' must be PAUSE or KILL, got ${show(mode)}`,
      );
    }
    policy.retryPolicyOnMaxAttempts = mode;
  }
  return policy;
}

function parseHandler(
  raw: unknown,
  index: number,
  service: string,
  serviceTy: ServiceType,
): ManifestHandler {
  if (!isObject(raw))
    throw new ManifestError(`service '${service}' handlers[${index}] is not an object`);
  const name = requireName(raw.name, `service '${service}' handlers[${index}]`);
  const handler: ManifestHandler = { name };
  const ty = handlerType(raw.ty, `${service}/${name}`, serviceTy);
  if (ty) handler.ty = ty;
  if (raw.input !== undefined) handler.input = parseInput(raw.input, `${service}/${name}`);
  if (raw.output !== undefined) handler.output = parseOutput(raw.output, `${service}/${name}`);
  return { ...handler, ...parseRetryPolicy(raw, `handler '${service}/${name}'`) };
}

function handlerType(
  raw: unknown,
  target: string,
  serviceTy: ServiceType,
): HandlerType | undefined {
  if (raw !== undefined && !HANDLER_TYPES.includes(raw as HandlerType)) {
    throw new ManifestError(
      `unknown handler type '${show(raw)}' for handler '${target}' (expected EXCLUSIVE, SHARED or WORKFLOW)`,
    );
  }
  const ty = raw as HandlerType | undefined;
  switch (serviceTy) {
    case 'SERVICE':
      if (ty)
        throw new ManifestError(
          `handler '${target}' of a SERVICE must not declare a type (got '${ty}')`,
        );
      return undefined;
    case 'VIRTUAL_OBJECT':
      if (ty === 'WORKFLOW') {
        throw new ManifestError(
          `handler '${target}' of a VIRTUAL_OBJECT must be EXCLUSIVE or SHARED, not WORKFLOW`,
        );
      }
      return ty ?? 'EXCLUSIVE';
    case 'WORKFLOW':
      if (ty === 'EXCLUSIVE') {
        throw new ManifestError(
          `handler '${target}' of a WORKFLOW must be WORKFLOW or SHARED, not EXCLUSIVE`,
        );
      }
      return ty ?? 'SHARED';
  }
}

function checkWorkflow(name: string, handlers: ManifestHandler[]): void {
  const runs = handlers.filter((h) => h.ty === 'WORKFLOW').length;
  if (runs !== 1) {
    throw new ManifestError(
      `workflow '${name}' must have exactly one WORKFLOW handler, found ${runs}`,
    );
  }
}

function parseInput(raw: unknown, target: string): ManifestHandler['input'] {
  if (!isObject(raw)) throw new ManifestError(`handler '${target}' input is not an object`);
  optional(raw.contentType, 'string', `handler '${target}' input.contentType`);
  optional(raw.required, 'boolean', `handler '${target}' input.required`);
  return { ...raw };
}

function parseOutput(raw: unknown, target: string): ManifestHandler['output'] {
  if (!isObject(raw)) throw new ManifestError(`handler '${target}' output is not an object`);
  optional(raw.contentType, 'string', `handler '${target}' output.contentType`);
  return { ...raw };
}

function optional(value: unknown, type: 'string' | 'boolean', what: string): void {
  if (value !== undefined && typeof value !== type)
    throw new ManifestError(`${what} must be a ${type}`);
}

/** Manifest values are arbitrary JSON: show them as JSON unless they are plain strings. */
function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function requireName(value: unknown, where: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new ManifestError(`${where} has no 'name' (a non-empty string is required)`);
  }
  return value;
}

function rejectDuplicates(names: string[], message: (name: string) => string): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw new ManifestError(message(name));
    seen.add(name);
  }
}
