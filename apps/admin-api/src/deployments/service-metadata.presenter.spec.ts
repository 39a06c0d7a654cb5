import {
  friendlyDuration,
  ServiceDefaults,
  ServiceRecord,
  toHandlerMetadata,
  toServiceMetadata,
} from './service-metadata.presenter';

const defaults: ServiceDefaults = {
  retentionMs: 86_400_000,
  retryPolicy: {
    initialIntervalMs: 500,
    exponentiationFactor: 2,
    maxIntervalMs: 60_000,
    maxAttempts: 70,
    onMaxAttempts: 'kill',
  },
};

const workflow: ServiceRecord = {
  name: 'Signup',
  ty: 'WORKFLOW',
  deploymentId: 'dp_10000000000000000000000',
  revision: 3,
  public: true,
  handlers: [
    {
      name: 'run',
      ty: 'WORKFLOW',
      inputContentType: 'application/json',
      inputRequired: true,
      outputContentType: null,
      inputJsonSchema: { type: 'object' },
    },
  ],
};

describe('friendlyDuration (jiff compact, as Restate prints durations)', () => {
  it.each([
    [0, '0s'],
    [500, '500ms'],
    [1_000, '1s'],
    [60_000, '1m'],
    [600_000, '10m'],
    [5_400_000, '1h 30m'],
    [86_400_000, '1d'],
    [90_061_001, '1d 1h 1m 1s 1ms'],
  ])('%d ms is %s', (ms, text) => {
    expect(friendlyDuration(ms)).toBe(text);
  });
});

describe('toServiceMetadata', () => {
  it('spells types and durations as Restate does, with the workflow retention', () => {
    expect(toServiceMetadata(workflow, defaults)).toEqual({
      name: 'Signup',
      ty: 'Workflow',
      handlers: [
        {
          name: 'run',
          ty: 'Workflow',
          public: true,
          input_description: 'application/json',
          output_description: 'none',
          input_json_schema: { type: 'object' },
          retry_policy: {},
        },
      ],
      deployment_id: 'dp_10000000000000000000000',
      revision: 3,
      public: true,
      idempotency_retention: '1d',
      workflow_completion_retention: '1d',
      inactivity_timeout: '1m',
      abort_timeout: '10m',
      enable_lazy_state: false,
      retry_policy: {
        initial_interval: '500ms',
        exponentiation_factor: 2,
        max_attempts: 70,
        max_interval: '1m',
        on_max_attempts: 'Kill',
      },
    });
  });

  it('has no workflow retention for other services, and null handler types for services', () => {
    const svc = toServiceMetadata(
      {
        ...workflow,
        ty: 'SERVICE',
        handlers: [{ ...workflow.handlers[0], ty: null, inputJsonSchema: undefined }],
      },
      defaults,
    );
    expect(svc.ty).toBe('Service');
    expect(svc.workflow_completion_retention).toBeNull();
    expect(svc.handlers[0].ty).toBeNull();
    expect(svc.handlers[0]).not.toHaveProperty('input_json_schema');
  });
});

describe('toHandlerMetadata input descriptions', () => {
  const base = workflow.handlers[0];
  it.each([
    [
      { inputContentType: 'application/json', inputRequired: false },
      'one of ["none", "application/json"]',
    ],
    [{ inputContentType: null, inputRequired: false }, 'one of ["none", "*/*"]'],
    [
      { inputContentType: 'application/octet-stream', inputRequired: true },
      'application/octet-stream',
    ],
  ])('%j', (input, description) => {
    expect(toHandlerMetadata({ ...base, ...input }).input_description).toBe(description);
  });
});

describe("on_max_attempts, in Restate's two words", () => {
  it.each([
    ['pause', 'Pause'],
    ['kill', 'Kill'],
    ['dead-letter', 'Kill'], // ends the invocation as failed, as Kill does
  ] as const)('%s -> %s', (onMaxAttempts, shown) => {
    const meta = toServiceMetadata(workflow, {
      ...defaults,
      retryPolicy: { ...defaults.retryPolicy, onMaxAttempts },
    });
    expect(meta.retry_policy.on_max_attempts).toBe(shown);
  });
});
