// One attempt of an invocation of a Restate SDK handler: send StartMessage + InputCommand + the
// journal to replay, then read the SDK's messages until End, Suspension or Error. In
// request/response style the request body is closed after the journal; in bidirectional
// streaming style (`stream`, HTTP/2, a BIDI_STREAM endpoint) it stays open and the caller's hook
// answers each message the SDK writes (a ctx.run result, typically) on it. Nothing is stored
// here: the caller keeps the journal and the state, and decides about retries.
import { createHash } from 'node:crypto';
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  FrameDecoder,
  MessageType,
  RawMessage,
  isCommand,
  messageTypeName,
} from './framing';
import {
  ExchangeError,
  ExchangeOptions,
  ExchangeRequest,
  ExchangeResponse,
  RestateTransport,
  exchange,
  openDuplexExchange,
} from './http-exchange';
import { endpointUrl, unauthorizedHint } from './discovery';
import type { Http2SessionPool } from './http2-pool';
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

/** What a stream hook answers for one message of the SDK. */
export interface StreamHookAnswer {
  /** Messages to write on the still-open request stream, in order (e.g. the
   * RunCompletionNotification of a ProposeRunCompletion, after the caller stored it). */
  write?: RawMessage[];
  /** Close the request stream after `write`: the SDK then suspends on whatever it still waits
   * for (or ends, if it waits for nothing). */
  endInput?: boolean;
}

export interface StreamHookContext {
  /** Position of the message in the attempt's `messages`. */
  index: number;
  /** Aborted when the attempt fails (timeout, abort, transport, protocol): a slow hook may give
   * up, since `invokeAttempt` settles only once the hook in flight has settled. */
  signal: AbortSignal;
}

/** Bidirectional streaming (see `InvokeAttemptRequest.stream`). */
export interface StreamHooks {
  /**
   * Called in order for each message the SDK writes before its terminal one (End, Suspension,
   * Error); never two at once, the next only after the previous one's writes were handed to the
   * stream. Resolves to messages to write on the still-open request stream and/or
   * `endInput: true` to close it. Writes asked for once the request stream is closed (after
   * `endInput`, or after the SDK's terminal message) are dropped, and so not in `written`. A
   * hook that throws ends the attempt: the stream is reset and `invokeAttempt` rejects with the
   * hook's own error (unless the attempt had already failed: then with that failure).
   */
  onMessage(m: RawMessage, context: StreamHookContext): Promise<StreamHookAnswer | void>;
  /**
   * Close the request stream when the SDK wrote nothing for this long while no hook was
   * pending (the role of the inactivity timeout of Restate's server): with the input open, the
   * SDK waits for a completion it needs (a `ctx.sleep`, an unanswered `ctx.run` proposal)
   * without ever suspending on its own. Default: never; the attempt's `timeoutMs` still applies.
   */
  inactivityTimeoutMs?: number;
}

export type AttemptMode = 'request-response' | 'bidi-stream';

export interface InvokeAttemptRequest {
  /** Base URL of the endpoint, as given to discovery (may carry a path prefix). */
  baseUrl: string;
  service: string;
  handler: string;
  /** The endpoint's supported range and mode (an EndpointManifest fits). */
  endpoint: {
    minProtocolVersion: number;
    maxProtocolVersion: number;
    protocolMode?: 'BIDI_STREAM' | 'REQUEST_RESPONSE';
  };
  transport?: RestateTransport;
  /**
   * Bidirectional streaming: the request stream is left open after the journal and the hook
   * answers the SDK's messages on it. Used only over HTTP/2 and when `endpoint.protocolMode` is
   * not `REQUEST_RESPONSE`; otherwise (HTTP/1.1: Restate streams only over HTTP/2, and the
   * SDK's `http1Handler()` is REQUEST_RESPONSE) the attempt falls back to request/response,
   * never calls the hook, and says so in `mode`.
   */
  stream?: StreamHooks;

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
  /**
   * Over HTTP/2, the session pool the attempt's stream goes on: default the process-wide one
   * (`restateSessionPool()`, closed by `closeRestateSessions()`).
   */
  pool?: Http2SessionPool;
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
  /** How the attempt ran: 'bidi-stream' only when `stream` was given and could be used. */
  mode: AttemptMode;
  outcome: AttemptOutcome;
  /** The OutputCommand, if the SDK wrote one (also present in `journal`). */
  output?: InvocationOutput;
  /** SetState / ClearState / ClearAllState commands, in the order written. */
  stateCommands: StateCommand[];
  /** Every new command the SDK wrote, in order, as raw messages to store and replay later. */
  journal: RawMessage[];
  /** ctx.run results the SDK proposed, answered in-stream or not (not journal entries: the
   * runtime stores each as a RunCompletionNotification). */
  runProposals: RunProposal[];
  /** Every message received, in order, including the terminal one. */
  messages: RawMessage[];
  /** Messages written on the open request stream after the journal, in order (bidi-stream
   * mode; empty in request/response mode). Each is in `journalWithWritten`. */
  written: RawMessage[];
  /**
   * `journal` with `written` merged in stream order: each written message right after the SDK
   * message whose hook wrote it. What to append to the stored journal so that a later attempt
   * replays this one (equal to `journal` in request/response mode).
   */
  journalWithWritten: RawMessage[];
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
  const mode: AttemptMode =
    req.stream && transport === 'http2' && req.endpoint.protocolMode !== 'REQUEST_RESPONSE'
      ? 'bidi-stream'
      : 'request-response';
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

  const exchangeRequest: ExchangeRequest = {
    method: 'POST',
    url,
    headers: {
      ...req.headers,
      ...req.identity?.identityHeaders(path),
      'content-type': contentType,
      accept: contentType,
      'x-restate-invocation-id': req.debugId,
    },
  };
  const receive =
    (onMessage?: (m: RawMessage, index: number) => void): ExchangeOptions['onChunk'] =>
    (chunk, head) => {
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
        onMessage?.(m, messages.length - 1);
      }
    };
  const exchangeOptions = {
    timeoutMs: req.timeoutMs ?? 60_000,
    maxBytes: maxResponseBytes,
    signal: req.signal,
    pool: req.pool,
  };

  let res: ExchangeResponse;
  let written: WrittenMessage[] = [];
  if (mode === 'bidi-stream') {
    const streamed = await streamExchange(
      req.stream!,
      body,
      exchangeRequest,
      exchangeOptions,
      receive,
      url.href,
    );
    res = streamed.res;
    written = streamed.written;
  } else {
    try {
      res = await exchange(
        transport,
        { ...exchangeRequest, body },
        { ...exchangeOptions, onChunk: receive() },
      );
    } catch (e) {
      throw toAttemptError(e, url.href, transport);
    }
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
    ...interpret(messages, terminal, written, mode),
    protocolVersion: version,
    transport,
    mode,
    server: res.headers['x-restate-server'],
  };
}

/** A message written in-stream, after the received message of index `after`. */
interface WrittenMessage {
  after: number;
  message: RawMessage;
}

/**
 * The bidirectional exchange: writes `body` and leaves the request stream open; each received
 * message before the terminal one goes, in order, through the hook, whose answer is written;
 * the request stream is closed on the hook's `endInput`, after the inactivity timeout, or on
 * the SDK's terminal message (the SDK ends its response only once its input is closed).
 * Settles once the response ended or failed and the hook in flight settled.
 */
async function streamExchange(
  hooks: StreamHooks,
  body: Buffer,
  request: ExchangeRequest,
  options: Omit<ExchangeOptions, 'onChunk'>,
  receive: (onMessage: (m: RawMessage, index: number) => void) => ExchangeOptions['onChunk'],
  href: string,
): Promise<{ res: ExchangeResponse; written: WrittenMessage[] }> {
  const written: WrittenMessage[] = [];
  const failed = new AbortController();
  let hookError: { error: unknown } | undefined;
  // Hooks run one after the other on this chain; it never rejects.
  let chain: Promise<void> = Promise.resolve();
  let pendingHooks = 0;
  let inactivity: NodeJS.Timeout | undefined;

  const armInactivity = () => {
    if (hooks.inactivityTimeoutMs === undefined) return;
    clearTimeout(inactivity);
    inactivity = setTimeout(() => {
      // Re-armed when the last pending hook settles.
      if (pendingHooks === 0) duplex.end();
    }, hooks.inactivityTimeoutMs);
  };

  const runHook = async (m: RawMessage, index: number): Promise<void> => {
    if (hookError || failed.signal.aborted) return;
    let answer: StreamHookAnswer | void;
    try {
      answer = await hooks.onMessage(m, { index, signal: failed.signal });
    } catch (error) {
      // A hook failing because the attempt already failed (its signal aborted) does not hide
      // why the attempt failed.
      if (failed.signal.aborted) return;
      hookError = { error };
      duplex.fail(error);
      return;
    }
    for (const message of answer?.write ?? []) {
      if (!duplex.writable) break;
      try {
        await duplex.write(frame(message));
      } catch {
        // The exchange ended meanwhile: its own outcome says how.
        break;
      }
      written.push({ after: index, message });
    }
    if (answer?.endInput) duplex.end();
  };

  const duplex = openDuplexExchange(request, {
    ...options,
    onChunk: receive((m, index) => {
      if (TERMINAL.has(m.type)) {
        clearTimeout(inactivity);
        duplex.end();
        return;
      }
      armInactivity();
      pendingHooks += 1;
      chain = chain
        .then(() => runHook(m, index))
        .finally(() => {
          pendingHooks -= 1;
          // The SDK's silence counts from the moment nothing is left for the caller to answer.
          if (pendingHooks === 0) armInactivity();
        });
    }),
  });
  // A failed write fails the exchange too; `done` reports it.
  duplex.write(body).catch(() => undefined);
  armInactivity();

  let res: ExchangeResponse | undefined;
  let failure: unknown;
  try {
    res = await duplex.done;
  } catch (e) {
    failure = e;
    failed.abort(e);
  } finally {
    clearTimeout(inactivity);
  }
  await chain;
  clearTimeout(inactivity);
  if (hookError) throw hookError.error;
  if (!res) throw toAttemptError(failure, href, 'http2');
  return { res, written };
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

/** The media type of a Content-Type header, lower-case, without parameters. */
export function mediaType(contentType: string | undefined): string {
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
  written: WrittenMessage[],
  mode: AttemptMode,
): Omit<InvokeAttemptResult, 'protocolVersion' | 'transport' | 'mode' | 'server'> {
  const stateCommands: StateCommand[] = [];
  const journal: RawMessage[] = [];
  const journalWithWritten: RawMessage[] = [];
  const runProposals: RunProposal[] = [];
  let output: InvocationOutput | undefined;
  const writtenAfter = new Map<number, RawMessage[]>();
  for (const w of written)
    writtenAfter.set(w.after, [...(writtenAfter.get(w.after) ?? []), w.message]);

  for (const [index, m] of messages.entries()) {
    if (m === terminal) break;
    if (isCommand(m.type)) {
      journal.push(m);
      journalWithWritten.push(m);
    }
    journalWithWritten.push(...(writtenAfter.get(index) ?? []));
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
            `unexpected ${messageTypeName(m.type)} from the SDK in ${mode} mode`,
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
  return {
    outcome,
    output,
    stateCommands,
    journal,
    runProposals,
    messages,
    written: written.map((w) => w.message),
    journalWithWritten,
  };
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
