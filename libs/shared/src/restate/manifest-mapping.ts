import type { EndpointManifest as StoredManifest } from '../protocol/protocol.types';
import type { EndpointManifest as RestateManifest, InvocationOptions } from './discovery';

/** The retry policy fields both manifests name alike, in milliseconds. */
function retryPolicy(o: InvocationOptions) {
  return {
    ...(o.retryPolicyInitialInterval !== undefined && {
      retryPolicyInitialInterval: o.retryPolicyInitialInterval,
    }),
    ...(o.retryPolicyMaxInterval !== undefined && {
      retryPolicyMaxInterval: o.retryPolicyMaxInterval,
    }),
    ...(o.retryPolicyMaxAttempts !== undefined && {
      retryPolicyMaxAttempts: o.retryPolicyMaxAttempts,
    }),
    ...(o.retryPolicyExponentiationFactor !== undefined && {
      retryPolicyExponentiationFactor: o.retryPolicyExponentiationFactor,
    }),
    ...(o.retryPolicyOnMaxAttempts !== undefined && {
      retryPolicyOnMaxAttempts: o.retryPolicyOnMaxAttempts,
    }),
  };
}

/**
 * A Restate SDK endpoint's manifest as the registry stores manifests: services, handler kinds,
 * input and output content types and retry policies, marked `serviceProtocol: 'restate'` (the
 * invoker then speaks Restate's service protocol to it) with its protocol versions kept.
 */
export function toStoredManifest(
  m: RestateManifest,
  transport: 'http2' | 'http1' = 'http2',
): StoredManifest {
  return {
    protocolMode: 'REQUEST_RESPONSE',
    minProtocolVersion: m.minProtocolVersion,
    maxProtocolVersion: m.maxProtocolVersion,
    serviceProtocol: 'restate',
    restate: { protocolMode: m.protocolMode ?? 'BIDI_STREAM', transport },
    services: m.services.map((s) => ({
      name: s.name,
      ty: s.ty,
      ...retryPolicy(s),
      handlers: s.handlers.map((h) => ({
        name: h.name,
        ...(s.ty !== 'SERVICE' && {
          ty: h.ty ?? (s.ty === 'WORKFLOW' ? 'SHARED' : 'EXCLUSIVE'),
        }),
        input: {
          ...(h.input?.contentType !== undefined && { contentType: h.input.contentType }),
          ...(h.input?.required !== undefined && { required: h.input.required }),
          ...(h.input?.jsonSchema !== undefined && { jsonSchema: h.input.jsonSchema }),
        },
        output: {
          ...(h.output?.contentType !== undefined && { contentType: h.output.contentType }),
          ...(h.output?.jsonSchema !== undefined && { jsonSchema: h.output.jsonSchema }),
        },
        ...retryPolicy(h),
      })),
    })),
  };
}
