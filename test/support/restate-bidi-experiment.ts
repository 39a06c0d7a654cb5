// What @restatedev/restate-sdk does when the runtime keeps the request stream open (BIDI_STREAM
// over HTTP/2): prints a timeline of each scenario. Not a test; run it by hand:
//   npx tsx test/support/restate-bidi-experiment.ts
// The findings are written down in libs/shared/src/restate/README.md ("bidirectional mode").
import './restate-polyfill';
import * as http2 from 'node:http2';
import {
  FrameDecoder,
  MessageType,
  RawMessage,
  messageTypeName,
} from '../../libs/shared/src/restate/framing';
import { encodeRequestMessages } from '../../libs/shared/src/restate/invocation';
import { decodeAs, frame, runCompletionFromProposal } from '../../libs/shared/src/restate/messages';
import { RunningEndpoint, startHttp2Endpoint } from './restate-sdk-servers';
import { sdkEndpoint } from './restate-test-services';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
let seq = 0;

interface Scenario {
  title: string;
  service: string;
  handler: string;
  input: unknown;
  /** What the "runtime" does on each message; returns messages to write. */
  onMessage?: (m: RawMessage) => RawMessage[];
  /** How long to keep the input open after the last message seen, before ending it. */
  quietMs: number;
}

async function run(ep: RunningEndpoint, s: Scenario): Promise<void> {
  console.log(`\n== ${s.title}`);
  const t0 = Date.now();
  const log = (what: string) =>
    console.log(`  +${String(Date.now() - t0).padStart(5)} ms  ${what}`);
  seq += 1;
  const session = http2.connect(ep.url);
  const stream = session.request({
    ':method': 'POST',
    ':path': `/invoke/${s.service}/${s.handler}`,
    'content-type': 'application/vnd.restate.invocation.v6',
    accept: 'application/vnd.restate.invocation.v6',
  });
  const first = encodeRequestMessages(
    {
      baseUrl: ep.url,
      endpoint: { minProtocolVersion: 6, maxProtocolVersion: 6 },
      service: s.service,
      handler: s.handler,
      invocationId: Buffer.from(`experiment-${seq}`),
      debugId: `inv_experiment_${seq}`,
      input: Buffer.from(JSON.stringify(s.input)),
    },
    6,
  );
  for (const m of first) stream.write(frame(m));
  log('wrote Start + Input, request stream left open');
  const decoder = new FrameDecoder();
  let lastSeen = Date.now();
  let inputEnded = false;
  stream.on('response', (h) => log(`response head ${h[':status']} ${h['content-type']}`));
  stream.on('data', (chunk: Buffer) => {
    for (const m of decoder.push(chunk)) {
      lastSeen = Date.now();
      let detail = '';
      if (m.type === MessageType.Suspension) {
        const sus = decodeAs(MessageType.Suspension, m);
        detail = ` waiting completions [${sus.waitingCompletions.join(', ')}] signals [${sus.waitingSignals.join(', ')}]`;
      }
      log(`SDK -> ${messageTypeName(m.type)}${detail}`);
      for (const w of s.onMessage?.(m) ?? []) {
        if (inputEnded) continue;
        stream.write(frame(w));
        log(`     <- wrote ${messageTypeName(w.type)}`);
      }
    }
  });
  const ended = new Promise<void>((resolve) => stream.on('close', () => resolve()));
  stream.on('end', () => log('response stream ended'));
  while (!stream.closed) {
    await pause(50);
    if (!inputEnded && Date.now() - lastSeen > s.quietMs) {
      inputEnded = true;
      log(`nothing for ${s.quietMs} ms: ending the request stream`);
      stream.end();
    }
  }
  await ended;
  session.close();
  log('closed');
}

const answerRuns = (m: RawMessage): RawMessage[] =>
  m.type === MessageType.ProposeRunCompletion
    ? [runCompletionFromProposal(decodeAs(MessageType.ProposeRunCompletion, m))]
    : [];

async function main(): Promise<void> {
  const bidi = await startHttp2Endpoint(sdkEndpoint().http2Handler());
  const rr = await startHttp2Endpoint(sdkEndpoint().http2Handler({ bidirectional: false }));
  try {
    await run(bidi, {
      title: 'BIDI: two ctx.run, each proposal answered with its RunCompletionNotification',
      service: 'TwoRuns',
      handler: 'twice',
      input: 'x',
      onMessage: answerRuns,
      quietMs: 1500,
    });
    await run(bidi, {
      title: 'BIDI: one ctx.run, proposal never answered',
      service: 'Runner',
      handler: 'once',
      input: 'y',
      quietMs: 1500,
    });
    await run(bidi, {
      title: 'BIDI: ctx.sleep(1 h), input left open',
      service: 'Sleeper',
      handler: 'nap',
      input: null,
      quietMs: 5000,
    });
    await run(bidi, {
      title: 'BIDI: handler without ctx.run, input left open',
      service: 'Greeter',
      handler: 'greet',
      input: 'Ada',
      quietMs: 1500,
    });
    await run(bidi, {
      title: 'BIDI: handler throwing a (retryable) Error, input left open',
      service: 'Failing',
      handler: 'boom',
      input: null,
      quietMs: 1500,
    });
    await run(rr, {
      title: 'REQUEST_RESPONSE endpoint over HTTP/2: two ctx.run, proposals answered',
      service: 'TwoRuns',
      handler: 'twice',
      input: 'z',
      onMessage: answerRuns,
      quietMs: 1500,
    });
    await run(rr, {
      title: 'REQUEST_RESPONSE endpoint over HTTP/2, input left open',
      service: 'Greeter',
      handler: 'greet',
      input: 'Ada',
      quietMs: 1500,
    });
  } finally {
    await bidi.close();
    await rr.close();
  }
}

void main();
