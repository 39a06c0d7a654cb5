// Which rounds of `invokeRestate` stream and which go whole (`StreamChoice`), against real
// @restatedev/restate-sdk handlers served in process by `http2Handler()` (BIDI_STREAM).
import '../../../../test/support/restate-polyfill';
import { RunningEndpoint, startHttp2Endpoint } from '../../../../test/support/restate-sdk-servers';
import { sdkEndpoint, twiceRuns } from '../../../../test/support/restate-test-services';
import { discoverEndpoint } from './discovery';
import { invokePath } from './invocation';
import { RestateInvokeRequest, RestateRuntime, invokeRestate } from './restate-invoker';
import { StreamChoice } from './stream-choice';

/** A runtime whose journal always stores (`invokeRestate` keeps the journal it replays itself),
 * for handlers that only journal: no calls, promises or signals. */
const storingRuntime = (): RestateRuntime => ({
  persist: () => Promise.resolve(true),
  call: () => Promise.reject(new Error('not used here')),
  promise: () => Promise.reject(new Error('not used here')),
  signal: () => Promise.reject(new Error('not used here')),
});

describe('StreamChoice: streamed or whole rounds per handler (HTTP/2, BIDI_STREAM endpoint)', () => {
  let ep: RunningEndpoint;
  let protocol: RestateInvokeRequest['protocol'];
  let seq = 0;
  beforeAll(async () => {
    ep = await startHttp2Endpoint(sdkEndpoint().http2Handler());
    const found = await discoverEndpoint(ep.url);
    expect([found.transport, found.manifest.protocolMode]).toEqual(['http2', 'BIDI_STREAM']);
    protocol = { ...found.manifest, transport: found.transport };
  });
  afterAll(async () => {
    await ep?.close();
  });

  const invoke = (service: string, handler: string, input: string, choice?: StreamChoice) => {
    seq += 1;
    return invokeRestate({
      deploymentUri: ep.url,
      service,
      handler,
      protocol,
      invocationId: `inv_choice_${seq}`,
      key: '',
      input: Buffer.from(JSON.stringify(input)),
      headers: {},
      retryCount: 0,
      runtime: storingRuntime(),
      streamChoice: choice,
    });
  };
  const href = (service: string, handler: string) => `${ep.url}${invokePath(service, handler)}`;
  const output = (o: Awaited<ReturnType<typeof invoke>>): unknown =>
    o.kind === 'success' ? JSON.parse(o.output.toString('utf8')) : o;

  it('streams to a handler until it was quiet for quietAttempts attempts, then sends its rounds whole', async () => {
    const choice = new StreamChoice(2);
    const greet = href('Greeter', 'greet');
    const seen: boolean[] = [];
    for (const name of ['a', 'b', 'c', 'd']) {
      seen.push(choice.streams(greet));
      const before = ep.requests();
      expect(output(await invoke('Greeter', 'greet', name, choice))).toEqual({
        greeting: `Hello, ${name}!`,
      });
      expect(ep.requests() - before).toBe(1);
    }
    expect(seen).toEqual([true, true, false, false]);
  });

  it('streams again from the round after a whole one ended waiting for an answer there at once', async () => {
    const choice = new StreamChoice(2);
    const twice = href('TwoRuns', 'twice');
    // Made quiet as two streamed attempts with nothing written would make it.
    choice.streamed(twice, false);
    choice.streamed(twice, false);
    expect(choice.streams(twice)).toBe(false);

    const runsBefore = { ...twiceRuns };
    const before = ep.requests();
    expect(output(await invoke('TwoRuns', 'twice', 'x', choice))).toEqual({
      a: `x-a${runsBefore.first + 1}`,
      b: `x-a${runsBefore.first + 1}-b${runsBefore.second + 1}`,
    });
    // Whole, the first round ends at the first ctx.run's proposal; the second streams and gets
    // the second run's result on its open request: two requests (one streamed throughout, three
    // whole), each closure run once.
    expect(ep.requests() - before).toBe(2);
    expect(twiceRuns).toEqual({ first: runsBefore.first + 1, second: runsBefore.second + 1 });
    expect(choice.streams(twice)).toBe(true);

    // Writing answers keeps it streaming: one request for the next invocation.
    const again = ep.requests();
    await invoke('TwoRuns', 'twice', 'y', choice);
    expect(ep.requests() - again).toBe(1);
    expect(choice.streams(twice)).toBe(true);
  });

  it('without a StreamChoice every round streams (one request for two ctx.runs)', async () => {
    const before = ep.requests();
    expect((await invoke('TwoRuns', 'twice', 'z')).kind).toBe('success');
    expect(ep.requests() - before).toBe(1);
  });
});
