import * as t from '@tributary/sdk';
import { signRequest } from '../../libs/shared/src/protocol/protocol.signature';

/**
 * The invoker's signer (libs/shared) against the SDK's verifier (libs/sdk), over HTTP: the two
 * implementations agree on the format, and a signed request is accepted once only.
 */
describe('invoker signatures checked by the SDK', () => {
  const key = 'shared-signing-key';
  const path = '/invoke/Greeter/greet';
  const body = JSON.stringify({
    invocationId: 'inv_replay',
    service: 'Greeter',
    handler: 'greet',
    key: '',
    attempt: 1,
    headers: {},
    rawHeaders: {},
    body: Buffer.from('"ada"').toString('base64'),
  });
  let greeted = 0;
  let running: t.RunningEndpoint;

  beforeAll(async () => {
    const greeter = t.service({
      name: 'Greeter',
      handlers: {
        greet: async (_ctx, name: string) => {
          greeted += 1;
          return `hello ${name}`;
        },
      },
    });
    running = await t.serve({ services: [greeter], port: 0, host: '127.0.0.1', signingKey: key });
  });

  afterAll(async () => {
    await running?.close();
  });

  const post = async (headers: Record<string, string>) => {
    const res = await fetch(running.url + path, { method: 'POST', headers, body });
    return { status: res.status, text: await res.text() };
  };

  it('accepts a request signed by signRequest, and refuses the same request replayed', async () => {
    const headers = signRequest(key, { method: 'POST', path, body });
    expect((await post(headers)).status).toBe(200);
    const replay = await post(headers);
    expect(replay.status).toBe(401);
    expect(replay.text).toContain('replayed request (nonce already used)');
    expect(greeted).toBe(1);
    // Signing the same request again (as a retry does) gives a new nonce: accepted.
    expect((await post(signRequest(key, { method: 'POST', path, body }))).status).toBe(200);
    expect(greeted).toBe(2);
  });

  it('signRequest refuses a whitespace-only key', () => {
    expect(() => signRequest('  ', { method: 'POST', path, body })).toThrow(
      'signing key must not be empty or whitespace',
    );
  });
});
