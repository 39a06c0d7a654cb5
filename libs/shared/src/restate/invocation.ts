// One attempt of an invocation of a Restate SDK handler, request/response style: send
// StartMessage + InputCommand + the journal to replay, close the request body, then read the
// SDK's messages until End, Suspension or Error. Nothing is stored here: the caller keeps the
// journal and the state, and decides about retries.
import { createHash } from 'node:crypto';
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  FrameDecoder,
  MessageType,
  RawMessage,
  isCommand,
  messageTypeName,
} from './framing';
import { ExchangeError, RestateTransport, exchange } from './http-exchange';
import { endpointUrl, unauthorizedHint } from './discovery';
import type { RequestSigner } from './request-identity';
import { buildMessage, decodeAs, frame, pb } from './messages';

/** Service protocol versions this client speaks. V7 is not (yet): its Suspension and run
 * completion semantics differ. */
export const SUPPORTED_PROTOCOL_VERSIONS = [5, 6] as const;
export type ServiceProtocolVersion = (typeof SUPPORTED_PROTOCOL_VERSIONS)[number];

export function invocationContentType(v: ServiceProtocolVersion): string {
  return `application/vnd.restate.invocation.v${v}`;
}

/** The highest version both sides support, from an endpoint manifest's min/max. */
export function negotiateProtocolVersion(endpoint: {
  minProtocolVersion: number;
  maxProtocolVersion: number;
}): ServiceProtocolVersion {
  for (const v of [...SUPPORTED_PROTOCOL_VERSIONS].reverse()) {
    if (v >= endpoint.minProtocolVersion && v <= endpoint.maxProtocolVersion) return v;
  }
  throw new InvocationAttemptError(
    `no common service protocol version: the endpoint supports V${endpoint.minProtocolVersion}–V${endpoint.maxProtocolVersion}, this client V${SUPPORTED_PROTOCOL_VERSIONS.join('/V')}`,
    'unsupported-version',
  );
}

export type StateKey = string | Uint8Array;

export interface InvokeAttemptRequest {
  /** Base URL of the endpoint, as given to discovery (may carry a path prefix). */
  baseUrl: string;
  service: string;
  handler: string;
  /** The endpoint's supported range (an EndpointManifest fits). */
  endpoint: { minProtocolVersion: number; maxProtocolVersion: number };
  transport?: RestateTransport;

  /** StartMessage.id: stable across attempts of one invocation. */
  invocationId: Uint8Array;
  /** StartMessage.debug_id, also sent as the `x-restate-invocation-id` header. */
  debugId: string;
  /** Virtual object / workflow key; empty for services. */
  key?: string;
  /** Body of the InputCommand. */
  input: Uint8Array;
  /** Headers of the InputCommand (what the handler sees as request headers). */
  inputHeaders?: Record<string, string>;
  /**
   * The object's whole state, sent eagerly (partial_state = false: a key not here does not exist).
   * Keys as strings are UTF-8 encoded.
   */
  state?: Iterable<[StateKey, Uint8Array]>;
  /** Journal entries after the InputCommand, in order, to replay (commands and notifications). */
  journal?: RawMessage[];
  retryCountSinceLastStoredEntry?: number;
  durationSinceLastStoredEntryMs?: number;
  /** V6+: seed of ctx.rand. Default: derived from invocationId, so stable across attempts. */
  randomSeed?: bigint;

  /** Extra HTTP headers on the request. */
  headers?: Record<string, string>;
  /**
   * Signs the request as Restate's server does (`x-restate-signature-scheme: v1` and
   * `x-restate-jwt-v1` with `aud` = `/invoke/{service}/{handler}`), for endpoints started with
   * `identityKeys`: a `RequestIdentity` from `loadRequestIdentity`.
   */
  identity?: RequestSigner;
  /** Whole attempt. Default 60 s. */
  timeoutMs?: number;
  /** Response body bound, in bytes. Default 32 MiB. */
  maxResponseBytes?: number;
  signal?: AbortSignal;
}

export type StateCommand =
  | { op: 'set'; key: Uint8Array; value: Uint8Array }
  | { op: 'clear'; key: Uint8Array }
  | { op: 'clearAll' };

export type InvocationOutput =
  | { kind: 'success'; value: Uint8Array }
  | { kind: 'failure'; code: number; message: string; metadata: Record<string, string> };

export type AttemptOutcome =
  /** The invocation finished; `output` is what the handler returned or its terminal failure. */
  | { kind: 'end'; output?: InvocationOutput }
  /** The SDK needs notifications it does not have; re-invoke with them in the journal. */
  | {
      kind: 'suspended';
      waitingCompletions: number[];
      waitingSignals: number[];
      waitingNamedSignals: string[];
    }
  /** Retryable failure of this attempt. */
  | {
      kind: 'error';
      code: number;
      message: string;
      stacktrace: string;
      relatedCommandIndex?: number;
      relatedCommandName?: string;
      relatedCommandType?: number;
      nextRetryDelayMs?: number;
    };

export interface RunProposal {
  completionId: number;
  result: InvocationOutput;
  /** As received, for runCompletionFromProposal. */
  message: pb.ProposeRunCompletionMessage;
}

export interface InvokeAttemptResult {
  protocolVersion: ServiceProtocolVersion;
  transport: RestateTransport;
  outcome: AttemptOutcome;
  /** The OutputCommand, if the SDK wrote one (also present in `journal`). */
  output?: InvocationOutput;
  /** SetState / ClearState / ClearAllState commands, in the order written. */
  stateCommands: StateCommand[];
  /** Every new command the SDK wrote, in order, as raw messages to store and replay later. */
  journal: RawMessage[];
  /** ctx.run results the SDK proposed (not journal entries: the runtime stores each as a
   * RunCompletionNotification after the journal). */
  runProposals: RunProposal[];
  /** Every message received, in order, including the terminal one. */
  messages: RawMessage[];
  /** The endpoint's `x-restate-server` header. */
  server?: string;
}

export class InvocationAttemptError extends Error {
  override readonly name = 'InvocationAttemptError';
  constructor(
    message: string,
    readonly kind:
      | 'unsupported-version'
      | 'http-status'
      | 'content-type'
      | 'transport'
      | 'protocol'
      | 'incomplete'
      | 'aborted'
      | 'timeout'
      | 'too-large',
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const TERMINAL = new Set<number>([MessageType.End, MessageType.Suspension, MessageType.Error]);

export async function invokeAttempt(req: InvokeAttemptRequest): Promise<InvokeAttemptResult> {
  const version = negotiateProtocolVersion(req.endpoint);
  const transport = req.transport ?? 'http2';
  const contentType = invocationContentType(version);
  const path = invokePath(req.service, req.handler);
  const url = endpointUrl(req.baseUrl, path);
  const body = Buffer.concat(encodeRequestMessages(req, version).map(frame));

  const maxResponseBytes = req.maxResponseBytes ?? 32 * 1024 * 1024;
  const decoder = new FrameDecoder({
    maxMessageBytes: Math.min(maxResponseBytes, DEFAULT_MAX_MESSAGE_BYTES),
  });
  const messages: RawMessage[] = [];
  let terminal: RawMessage | undefined;
  // Bytes of a non-protocol answer (an error status or a foreign content-type), kept for the error.
  const foreign: Buffer[] = [];
  let foreignBytes = 0;

  let res;
  try {
    res = await exchange(
      transport,
      {
        method: 'POST',
        url,
        headers: {
          ...req.headers,
          ...req.identity?.identityHeaders(path),
          'content-type': contentType,
          accept: contentType,
          'x-restate-invocation-id': req.debugId,
        },
        body,
      },
      {
        timeoutMs: req.timeoutMs ?? 60_000,
        maxBytes: maxResponseBytes,
        signal: req.signal,
        onChunk: (chunk, head) => {
          if (head.status !== 200 || mediaType(head.headers['content-type']) !== contentType) {
            if (foreignBytes < 4096) foreign.push(chunk);
            foreignBytes += chunk.length;
            return;
          }
          for (const m of decoder.push(chunk)) {
            if (terminal) {
              throw new InvocationAttemptError(
                `${messageTypeName(m.type)} received after ${messageTypeName(terminal.type)}`,
                'protocol',
              );
            }
            messages.push(m);
            if (TERMINAL.has(m.type)) terminal = m;
          }
        },
      },
    );
  } catch (e) {
    throw toAttemptError(e, url.href, transport);
  }

  const text = Buffer.concat(foreign).subarray(0, 300).toString('utf8').trim();
  if (res.status !== 200) {
    throw new InvocationAttemptError(
      `${url.href} answered ${res.status} over ${transport}${text ? `: ${text.slice(0, 300)}` : ''}${unauthorizedHint(res.status, res.headers, req.identity)}`,
      'http-status',
      res.status,
    );
  }
  const answeredType = mediaType(res.headers['content-type']);
  if (answeredType !== contentType) {
    throw new InvocationAttemptError(
      `${url.href} answered with content-type '${answeredType}', expected '${contentType}'${text ? `: ${text}` : ''}`,
      'content-type',
      res.status,
    );
  }
  try {
    decoder.end();
  } catch (e) {
    throw new InvocationAttemptError((e as Error).message, 'incomplete', res.status);
  }
  if (!terminal) {
    throw new InvocationAttemptError(
      `the response ended after ${messages.length} message(s) without End, Suspension or Error`,
      'incomplete',
      res.status,
    );
  }
  return {
    ...interpret(messages, terminal),
    protocolVersion: version,
    transport,
    server: res.headers['x-restate-server'],
  };
}

/**
 * `/invoke/{service}/{handler}`: the request's path relative to the endpoint, which is also what
 * its request identity is signed for (`aud`).
 */
export function invokePath(service: string, handler: string): string {
  return `/invoke/${encodeURIComponent(service)}/${encodeURIComponent(handler)}`;
}

/** StartMessage, InputCommand, then the journal to replay. */
export function encodeRequestMessages(
  req: InvokeAttemptRequest,
  version: ServiceProtocolVersion,
): RawMessage[] {
  const journal = req.journal ?? [];
  const stateMap = [...(req.state ?? [])].map(([key, value]) => ({ key: keyBytes(key), value }));
  const start = buildMessage(MessageType.Start, {
    id: req.invocationId,
    debugId: req.debugId,
    key: req.key ?? '',
    knownEntries: 1 + journal.length,
    stateMap,
    partialState: false,
    retryCountSinceLastStoredEntry: req.retryCountSinceLastStoredEntry ?? 0,
    durationSinceLastStoredEntry: BigInt(
      Math.max(0, Math.floor(req.durationSinceLastStoredEntryMs ?? 0)),
    ),
    randomSeed: version >= 6 ? (req.randomSeed ?? seedFrom(req.invocationId)) : 0n,
  });
  const input = buildMessage(MessageType.InputCommand, {
    headers: Object.entries(req.inputHeaders ?? {}).map(([key, value]) => ({ key, value })),
    value: { content: req.input },
  });
  return [start, input, ...journal];
}

function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

function keyBytes(key: StateKey): Uint8Array {
  return typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
}

function seedFrom(id: Uint8Array): bigint {
  return createHash('sha256').update(id).digest().readBigUInt64BE(0);
}

function failureOf(f: pb.Failure): InvocationOutput {
  return {
    kind: 'failure',
    code: f.code,
    message: f.message,
    metadata: Object.fromEntries(f.metadata.map((m) => [m.key, m.value])),
  };
}

/** The state command a message is (SetState, ClearState, ClearAllState), or undefined. */
export function stateCommandOf(m: RawMessage): StateCommand | undefined {
  switch (m.type) {
    case MessageType.SetStateCommand: {
      const c = decodeAs(MessageType.SetStateCommand, m);
      return { op: 'set', key: c.key, value: c.value?.content ?? new Uint8Array() };
    }
    case MessageType.ClearStateCommand:
      return { op: 'clear', key: decodeAs(MessageType.ClearStateCommand, m).key };
    case MessageType.ClearAllStateCommand:
      return { op: 'clearAll' };
    default:
      return undefined;
  }
}

function interpret(
  messages: RawMessage[],
  terminal: RawMessage,
): Omit<InvokeAttemptResult, 'protocolVersion' | 'transport' | 'server'> {
  const stateCommands: StateCommand[] = [];
  const journal: RawMessage[] = [];
  const runProposals: RunProposal[] = [];
  let output: InvocationOutput | undefined;

  for (const m of messages) {
    if (m === terminal) break;
    if (isCommand(m.type)) journal.push(m);
    const state = stateCommandOf(m);
    if (state) stateCommands.push(state);
    switch (m.type) {
      case MessageType.OutputCommand: {
        const o = decodeAs(MessageType.OutputCommand, m);
        if (o.result.case === 'value') output = { kind: 'success', value: o.result.value.content };
        else if (o.result.case === 'failure') output = failureOf(o.result.value);
        else throw new InvocationAttemptError('OutputCommand carries no result', 'protocol');
        break;
      }
      case MessageType.ProposeRunCompletion: {
        const p = decodeAs(MessageType.ProposeRunCompletion, m);
        const result: InvocationOutput | undefined =
          p.result.case === 'value'
            ? { kind: 'success', value: p.result.value }
            : p.result.case === 'failure'
              ? failureOf(p.result.value)
              : undefined;
        if (!result) {
          throw new InvocationAttemptError(
            `ProposeRunCompletion for completion ${p.resultCompletionId} carries no result`,
            'protocol',
          );
        }
        runProposals.push({ completionId: p.resultCompletionId, result, message: p });
        break;
      }
      default:
        if (!isCommand(m.type)) {
          throw new InvocationAttemptError(
            `unexpected ${messageTypeName(m.type)} from the SDK in request/response mode`,
            'protocol',
          );
        }
    }
  }

  let outcome: AttemptOutcome;
  if (terminal.type === MessageType.End) {
    outcome = { kind: 'end', output };
  } else if (terminal.type === MessageType.Suspension) {
    const s = decodeAs(MessageType.Suspension, terminal);
    outcome = {
      kind: 'suspended',
      waitingCompletions: [...s.waitingCompletions],
      waitingSignals: [...s.waitingSignals],
      waitingNamedSignals: [...s.waitingNamedSignals],
    };
  } else {
    const e = decodeAs(MessageType.Error, terminal);
    outcome = {
      kind: 'error',
      code: e.code,
      message: e.message,
      stacktrace: e.stacktrace,
      ...(e.relatedCommandIndex !== undefined
        ? { relatedCommandIndex: e.relatedCommandIndex }
        : {}),
      ...(e.relatedCommandName !== undefined ? { relatedCommandName: e.relatedCommandName } : {}),
      ...(e.relatedCommandType !== undefined ? { relatedCommandType: e.relatedCommandType } : {}),
      ...(e.nextRetryDelay !== undefined ? { nextRetryDelayMs: Number(e.nextRetryDelay) } : {}),
    };
  }
  return { outcome, output, stateCommands, journal, runProposals, messages };
}

function toAttemptError(
  e: unknown,
  url: string,
  transport: RestateTransport,
): InvocationAttemptError {
  if (e instanceof ExchangeError) {
    if (e.kind === 'consumer' && e.cause instanceof InvocationAttemptError) return e.cause;
    const kind =
      e.kind === 'aborted'
        ? 'aborted'
        : e.kind === 'timeout'
          ? 'timeout'
          : e.kind === 'too-large'
            ? 'too-large'
            : e.kind === 'consumer'
              ? 'protocol'
              : 'transport';
    return new InvocationAttemptError(
      `invocation at ${url} over ${transport}: ${e.message}`,
      kind,
      e.status,
      {
        cause: e,
      },
    );
  }
  return new InvocationAttemptError(
    `invocation at ${url} over ${transport}: ${e instanceof Error ? e.message : String(e)}`,
    'transport',
    undefined,
    { cause: e },
  );
}
