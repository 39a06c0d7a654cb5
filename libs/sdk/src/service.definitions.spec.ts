import { ObjectContext, WorkflowContext } from './context.types';
import { handlers } from './handler.definitions';
import { buildManifest } from './manifest.builder';
import { serde } from './serde';
import { object, resolveHandlers, service, workflow } from './service.definitions';

describe('service definitions', () => {
  it('settles handler kinds and content types into the manifest', () => {
    const counter = object({
      name: 'Counter',
      handlers: {
        add: async (_ctx: ObjectContext, _n: number) => 1,
        get: handlers.object.shared(async () => 1),
        set: handlers.object.exclusive({ input: serde.binary }, async (_ctx, b) => b.length),
      },
    });
    const raw = service({
      name: 'Raw',
      handlers: { ingest: handlers.handler({ input: serde.binary }, async () => 'ok') },
    });
    const signup = workflow({
      name: 'Signup',
      handlers: {
        run: async (_ctx: WorkflowContext) => 'done',
        status: handlers.workflow.shared(async () => 'x'),
      },
    });
    const manifest = buildManifest([counter, raw, signup], resolveHandlers);
    const json = { contentType: 'application/json' };
    expect(manifest).toEqual({
      protocolMode: 'REQUEST_RESPONSE',
      minProtocolVersion: 1,
      maxProtocolVersion: 2,
      services: [
        {
          name: 'Counter',
          ty: 'VIRTUAL_OBJECT',
          handlers: [
            { name: 'add', ty: 'EXCLUSIVE', input: { ...json, required: false }, output: json },
            { name: 'get', ty: 'SHARED', input: { ...json, required: false }, output: json },
            {
              name: 'set',
              ty: 'EXCLUSIVE',
              input: { contentType: 'application/octet-stream', required: false },
              output: json,
            },
          ],
        },
        {
          name: 'Raw',
          ty: 'SERVICE',
          handlers: [
            {
              name: 'ingest',
              input: { contentType: 'application/octet-stream', required: false },
              output: json,
            },
          ],
        },
        {
          name: 'Signup',
          ty: 'WORKFLOW',
          handlers: [
            { name: 'run', ty: 'WORKFLOW', input: { ...json, required: false }, output: json },
            { name: 'status', ty: 'SHARED', input: { ...json, required: false }, output: json },
          ],
        },
      ],
    });
  });

  it('accepts both (fn) and (opts, fn) forms', () => {
    const fn = async () => 1;
    const a = handlers.object.shared(fn);
    const b = handlers.object.shared({ output: serde.json }, fn);
    const c = handlers.workflow.workflow(fn);
    const d = handlers.workflow.workflow({ input: serde.binary }, fn);
    expect([a, b, c, d].every((h) => typeof h === 'function')).toBe(true);
    expect(a).not.toBe(fn); // wrapped, so `fn` can be reused with other options
  });

  it('rejects handler kinds that do not fit the service type', () => {
    const shared = handlers.object.shared(async () => 1);
    expect(() => service({ name: 'S', handlers: { h: shared as never } })).toThrow(
      "handler 'S/h' is marked SHARED: services take handlers.handler() or plain functions",
    );
    expect(() =>
      object({ name: 'O', handlers: { h: handlers.workflow.workflow(async () => 1) } }),
    ).toThrow(/objects take exclusive or shared handlers/);
    expect(() => workflow({ name: 'W', handlers: { other: async () => 1 } })).toThrow(
      "workflow 'W' needs a 'run' handler",
    );
    expect(() =>
      workflow({
        name: 'W',
        handlers: { run: async () => 1, go: handlers.workflow.workflow(async () => 1) },
      }),
    ).toThrow(/only 'run' is the workflow handler/);
  });
});
