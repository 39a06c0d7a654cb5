import { tracingSetup } from './tracing';

describe('tracingSetup: the config and the standard OTEL_* variables', () => {
  const off = { enabled: false };
  const on = { enabled: true, endpoint: 'http://collector:4318/' };

  it('is off by default', () => {
    expect(tracingSetup(off, 'invoker', {})).toEqual({
      on: false,
      url: undefined,
      serviceName: 'tributary-invoker',
    });
  });

  it('is on by tracing.enabled, exporting to the endpoint’s /v1/traces', () => {
    expect(tracingSetup(on, 'invoker', {})).toEqual({
      on: true,
      url: 'http://collector:4318/v1/traces',
      serviceName: 'tributary-invoker',
    });
  });

  it('is on by OTEL_TRACES_EXPORTER=otlp, off by `none` or OTEL_SDK_DISABLED=true', () => {
    expect(tracingSetup(off, 'x', { OTEL_TRACES_EXPORTER: 'console, otlp' }).on).toBe(true);
    expect(tracingSetup(on, 'x', { OTEL_TRACES_EXPORTER: 'none' }).on).toBe(false);
    expect(tracingSetup(on, 'x', { OTEL_SDK_DISABLED: 'TRUE' }).on).toBe(false);
  });

  it('leaves the endpoint to OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT when one is set', () => {
    expect(tracingSetup(on, 'x', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318' }).url).toBe(
      undefined,
    );
    expect(
      tracingSetup(on, 'x', { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://a:4318/v1/traces' }).url,
    ).toBe(undefined);
  });

  it('names the service after tracing.service-name', () => {
    expect(tracingSetup({ ...on, serviceName: 'orders' }, 'x', {}).serviceName).toBe('orders');
  });
});
