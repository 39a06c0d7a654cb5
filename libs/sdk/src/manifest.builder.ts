import { HandlerSpec, ServiceDefinition } from './service.definitions';
import { BATCH_PROTOCOL_VERSION, EndpointManifest, ManifestHandler } from './protocol';

const FALLBACK_CONTENT_TYPE = 'application/octet-stream';

/** The `/discover` answer, shaped like Restate's endpoint manifest. */
export function buildManifest(
  services: readonly ServiceDefinition[],
  specsOf: (def: ServiceDefinition) => HandlerSpec[],
): EndpointManifest {
  return {
    protocolMode: 'REQUEST_RESPONSE',
    minProtocolVersion: 1,
    maxProtocolVersion: BATCH_PROTOCOL_VERSION,
    services: services.map((def) => ({
      name: def.name,
      ty: def.type,
      handlers: specsOf(def).map(manifestHandler),
    })),
  };
}

function manifestHandler(spec: HandlerSpec): ManifestHandler {
  return {
    name: spec.name,
    ...(spec.ty ? { ty: spec.ty } : {}),
    // Not required: an empty record payload reaches a JSON handler as `undefined`.
    input: { contentType: spec.input.contentType ?? FALLBACK_CONTENT_TYPE, required: false },
    output: { contentType: spec.output.contentType ?? FALLBACK_CONTENT_TYPE },
  };
}
