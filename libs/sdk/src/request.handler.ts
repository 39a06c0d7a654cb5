import { IncomingMessage, ServerResponse } from 'node:http';
import { runInvocation } from './invocation.runner';
import { parseInvocationRequest } from './invocation-request.parser';
import { buildManifest } from './manifest.builder';
import { signatureProblem } from './request.signature';
import { HandlerSpec, ServiceDefinition, resolveHandlers } from './service.definitions';
import { SIGNATURE_HEADER, SIGNING_KEY_ENV, TIMESTAMP_HEADER } from './wire.types';

export interface RequestHandlerOptions {
  /** Verify the invoker's signature with this key; defaults to env TRIBUTARY_SIGNING_KEY. */
  signingKey?: string;
}

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

type Route = { kind: 'discover' } | { kind: 'invoke'; service: string; handler: string };

// Matched at the end of the path so the endpoint also works mounted under a prefix.
const DISCOVER = /\/discover$/;
const INVOKE = /\/invoke\/([^/]+)\/([^/]+)$/;

/** A node:http listener serving the handler protocol (docs/protocol.md) for `services`. */
export function createRequestHandler(
  services: readonly ServiceDefinition[],
  options: RequestHandlerOptions = {},
): RequestListener {
  const specs = indexHandlers(services);
  const manifest = JSON.stringify(buildManifest(services, resolveHandlers));
  const signingKey = options.signingKey ?? (process.env[SIGNING_KEY_ENV] || undefined);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const path = requestPath(req);
    if (signingKey) {
      const problem = signatureProblem(signingKey, { ...signedParts(req), path, body });
      if (problem) return fail(res, 401, false, `signature rejected: ${problem}`);
    }
    const route = matchRoute(path);
    if (!route) {
      return fail(
        res,
        404,
        true,
        `no route for ${path}: use GET /discover or POST /invoke/{service}/{handler}`,
      );
    }
    if (route.kind === 'discover') {
      return req.method === 'GET'
        ? send(res, 200, manifest)
        : fail(res, 405, true, 'use GET /discover');
    }
    if (req.method !== 'POST') return fail(res, 405, true, 'use POST to invoke a handler');
    const spec = specs.get(`${route.service}/${route.handler}`);
    if (!spec) {
      return fail(
        res,
        404,
        true,
        `handler '${route.service}/${route.handler}' not found on this deployment`,
      );
    }
    await invoke(spec, body, res);
  };

  return (req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) fail(res, 500, false, `handler endpoint error: ${String(err)}`);
      else res.destroy();
    });
  };
}

async function invoke(spec: HandlerSpec, body: Buffer, res: ServerResponse): Promise<void> {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (err) {
    return fail(res, 400, false, `request body is not JSON: ${String(err)}`);
  }
  const request = parseInvocationRequest(json);
  if (typeof request === 'string') return fail(res, 400, false, `bad invoke request: ${request}`);
  send(res, 200, JSON.stringify(await runInvocation(spec, request)));
}

function indexHandlers(services: readonly ServiceDefinition[]): Map<string, HandlerSpec> {
  const specs = new Map<string, HandlerSpec>();
  const names = new Set<string>();
  for (const def of services) {
    if (names.has(def.name)) throw new TypeError(`service '${def.name}' is bound twice`);
    names.add(def.name);
    for (const spec of resolveHandlers(def)) specs.set(`${spec.service}/${spec.name}`, spec);
  }
  return specs;
}

function matchRoute(path: string): Route | undefined {
  const pathname = path.split('?', 1)[0];
  if (DISCOVER.test(pathname)) return { kind: 'discover' };
  const m = INVOKE.exec(pathname);
  if (!m) return undefined;
  try {
    return { kind: 'invoke', service: decodeURIComponent(m[1]), handler: decodeURIComponent(m[2]) };
  } catch {
    return undefined; // malformed percent-encoding
  }
}

/** The path the invoker signed: Express-style mounts strip their prefix from `url`. */
function requestPath(req: IncomingMessage): string {
  return (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/';
}

function signedParts(req: IncomingMessage): {
  method: string;
  timestamp?: string;
  signature?: string;
} {
  const header = (name: string) => {
    const v = req.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  return {
    method: req.method ?? 'GET',
    timestamp: header(TIMESTAMP_HEADER),
    signature: header(SIGNATURE_HEADER),
  };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function fail(res: ServerResponse, status: number, terminal: boolean, message: string): void {
  send(res, status, JSON.stringify({ ok: false, failure: { terminal, message, code: status } }));
}

function send(res: ServerResponse, status: number, json: string): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(json),
  });
  res.end(json);
}
