import type { ServiceMetadata } from './service-metadata.presenter';

/** Restate's `RegisterDeploymentResponse`. */
export interface RegisterDeploymentResponse {
  id: string;
  services: ServiceMetadata[];
  min_protocol_version: number;
  max_protocol_version: number;
}

interface DeploymentBase {
  id: string;
  uri: string;
  /** How the invoker talks to it: Restate's names of the endpoint's protocol mode. */
  protocol_type: 'RequestResponse' | 'BidiStream';
  http_version: 'HTTP/1.1' | 'HTTP/2.0';
  /** Tributary's: which protocol the invoker speaks to it (a Restate SDK's, or its own). */
  service_protocol: 'tributary' | 'restate';
  additional_headers: Record<string, string>;
  created_at: string;
  min_protocol_version: number;
  max_protocol_version: number;
}

/** An entry of `GET /deployments`, Restate's `DeploymentResponse` (HTTP). */
export interface DeploymentSummary extends DeploymentBase {
  services: { name: string; revision: number }[];
}

/** `GET /deployments/{id}`, Restate's `DetailedDeploymentResponse` (HTTP). */
export interface DeploymentDetail extends DeploymentBase {
  services: ServiceMetadata[];
}
