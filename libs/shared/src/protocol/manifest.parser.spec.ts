import { parseManifest } from './manifest.parser';

const manifest = (services: unknown[], extra: Record<string, unknown> = {}) => ({
  protocolMode: 'REQUEST_RESPONSE',
  minProtocolVersion: 1,
  maxProtocolVersion: 1,
  services,
  ...extra,
});

describe('parseManifest', () => {
  it('returns the typed manifest and fills in default handler types', () => {
    const parsed = parseManifest(
      manifest([
        {
          name: 'Greeter',
          ty: 'SERVICE',
          handlers: [{ name: 'greet', input: { contentType: 'application/json' } }],
        },
        {
          name: 'Counter',
          ty: 'VIRTUAL_OBJECT',
          handlers: [{ name: 'add' }, { name: 'get', ty: 'SHARED' }],
        },
        {
          name: 'Signup',
          ty: 'WORKFLOW',
          handlers: [{ name: 'run', ty: 'WORKFLOW' }, { name: 'status' }],
        },
      ]),
    );
    expect(
      parsed.services.map((s) => [s.name, s.ty, s.handlers.map((h) => `${h.name}:${h.ty}`)]),
    ).toEqual([
      ['Greeter', 'SERVICE', ['greet:undefined']],
      ['Counter', 'VIRTUAL_OBJECT', ['add:EXCLUSIVE', 'get:SHARED']],
      ['Signup', 'WORKFLOW', ['run:WORKFLOW', 'status:SHARED']],
    ]);
    expect(parsed.services[0].handlers[0].input).toEqual({ contentType: 'application/json' });
  });

  it.each([
    [[], "not a manifest: missing 'services' array"],
    [{ services: {} }, "not a manifest: missing 'services' array"],
    [
      manifest([{ name: 'X', ty: 'FOO', handlers: [] }]),
      "unknown service type 'FOO' for service 'X' (expected SERVICE, VIRTUAL_OBJECT or WORKFLOW)",
    ],
    [
      manifest([{ name: 'X', ty: 'VIRTUAL_OBJECT', handlers: [{ name: 'h', ty: 'BAR' }] }]),
      "unknown handler type 'BAR' for handler 'X/h' (expected EXCLUSIVE, SHARED or WORKFLOW)",
    ],
    [
      manifest([{ ty: 'SERVICE', handlers: [] }]),
      "services[0] has no 'name' (a non-empty string is required)",
    ],
    [manifest([{ name: 'X', ty: 'SERVICE' }]), "service 'X' has no 'handlers' array"],
    [
      manifest([{ name: 'X', ty: 'SERVICE', handlers: [{ name: 'h', ty: 'EXCLUSIVE' }] }]),
      "handler 'X/h' of a SERVICE must not declare a type (got 'EXCLUSIVE')",
    ],
    [
      manifest([{ name: 'W', ty: 'WORKFLOW', handlers: [{ name: 'status' }] }]),
      "workflow 'W' must have exactly one WORKFLOW handler, found 0",
    ],
    [
      manifest([
        { name: 'X', ty: 'SERVICE', handlers: [] },
        { name: 'X', ty: 'SERVICE', handlers: [] },
      ]),
      "service 'X' is declared twice",
    ],
    [
      manifest([{ name: 'X', ty: 'SERVICE', handlers: [{ name: 'h' }, { name: 'h' }] }]),
      "handler 'X/h' is declared twice",
    ],
    [
      manifest([], { protocolMode: 'BIDI_STREAM' }),
      "protocolMode 'BIDI_STREAM' is not supported: Tributary speaks REQUEST_RESPONSE over plain HTTP (see docs/protocol.md)",
    ],
    [
      manifest([], { minProtocolVersion: 2, maxProtocolVersion: 3 }),
      'deployment speaks protocol versions 2..3, Tributary speaks 1',
    ],
    [
      manifest([
        { name: 'X', ty: 'SERVICE', handlers: [{ name: 'h', input: { contentType: 5 } }] },
      ]),
      "handler 'X/h' input.contentType must be a string",
    ],
  ])('rejects %j', (raw, message) => {
    expect(() => parseManifest(raw)).toThrow(message);
  });
});

describe('parseManifest: retry policy fields', () => {
  const manifest = (extra: Record<string, unknown>) => ({
    protocolMode: 'REQUEST_RESPONSE',
    minProtocolVersion: 1,
    maxProtocolVersion: 1,
    services: [
      { name: 'S', ty: 'SERVICE', handlers: [{ name: 'h', ...extra }], retryPolicyMaxAttempts: 5 },
    ],
  });

  it("keeps Restate's retry settings of services and handlers", () => {
    const parsed = parseManifest(
      manifest({ retryPolicyMaxAttempts: 2, retryPolicyOnMaxAttempts: 'KILL' }),
    );
    expect(parsed.services[0].retryPolicyMaxAttempts).toBe(5);
    expect(parsed.services[0].handlers[0]).toMatchObject({
      retryPolicyMaxAttempts: 2,
      retryPolicyOnMaxAttempts: 'KILL',
    });
  });

  it('refuses retry settings of the wrong kind, naming them', () => {
    expect(() => parseManifest(manifest({ retryPolicyMaxAttempts: 'two' }))).toThrow(
      /'retryPolicyMaxAttempts' must be a non-negative number/,
    );
    expect(() => parseManifest(manifest({ retryPolicyOnMaxAttempts: 'STOP' }))).toThrow(
      /must be PAUSE or KILL/,
    );
  });
});
