import { Inject, Injectable } from '@nestjs/common';
import {
  EndpointManifest,
  isIdOfKind,
  ManifestService,
  newId,
  TRIBUTARY_CONFIG,
  TributaryConfig,
} from '@tributary/shared';
import { AdminError } from '../common/admin-error';
import { DeploymentDiscovery } from './deployment.discovery';
import {
  DeploymentRecord,
  DeploymentRepository,
  isUniqueViolation,
  RegistryStore,
} from './deployment.repository';
import type {
  DeploymentDetail,
  DeploymentSummary,
  RegisterDeploymentResponse,
} from './deployment.views';
import type { RegisterDeploymentDto } from './dto/register-deployment.dto';
import { ServiceDefaults, ServiceRecord, toServiceMetadata } from './service-metadata.presenter';

export interface Registration {
  /** True when a new deployment was (or, in a dry run, would be) created: 201, else 200. */
  created: boolean;
  body: RegisterDeploymentResponse;
}

interface RegistrationRequest {
  uri: string;
  headers: Record<string, string>;
  manifest: EndpointManifest;
  force: boolean;
  breaking: boolean;
}

/**
 * Registers handler deployments as Restate does: discover, then store the deployment with its
 * services in one transaction. A service already served by another deployment moves to the new
 * one with its revision bumped. Re-registering an unchanged deployment is a no-op (200);
 * a changed one needs `force`.
 */
@Injectable()
export class DeploymentService {
  private readonly defaults: ServiceDefaults;

  constructor(
    private readonly repository: DeploymentRepository,
    private readonly discovery: DeploymentDiscovery,
    @Inject(TRIBUTARY_CONFIG) config: TributaryConfig,
  ) {
    this.defaults = {
      retentionMs: config.invocation.retentionMs,
      retryPolicy: config.invocation.defaultRetryPolicy,
    };
  }

  async register(dto: RegisterDeploymentDto): Promise<Registration> {
    if (dto.metadata && Object.keys(dto.metadata).length > 0) {
      throw AdminError.badRequest(
        "The request field 'metadata' is invalid. Reason: deployment metadata is not supported by Tributary; leave it out",
      );
    }
    const uri = dto.uri.replace(/\/+$/, '');
    const headers = dto.additional_headers ?? {};
    const manifest = await this.discovery.discover(uri, headers);
    const force = dto.force ?? false;
    const request = { uri, headers, manifest, force, breaking: force || (dto.breaking ?? false) };
    try {
      return await this.repository.transaction((store) => this.apply(store, request), {
        commit: !(dto.dry_run ?? false),
      });
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      throw AdminError.conflict(
        `a concurrent registration changed the deployment at '${uri}' or one of its services; retry`,
      );
    }
  }

  async list(): Promise<{ deployments: DeploymentSummary[] }> {
    const deployments = await this.repository.listDeployments();
    return {
      deployments: deployments.map((d) => ({
        ...this.base(d),
        services: d.services.map((s) => ({ name: s.name, revision: s.revision })),
      })),
    };
  }

  async get(id: string): Promise<DeploymentDetail> {
    const deployment = await this.findOrFail(id);
    return {
      ...this.base(deployment),
      services: deployment.services.map((s) => toServiceMetadata(s, this.defaults)),
    };
  }

  /**
   * Removes the deployment with its services and handlers. Subscriptions delivering to those
   * services block it unless `force`; with it they stay, pointing at no handler.
   */
  async remove(id: string, force: boolean): Promise<void> {
    await this.findOrFail(id);
    const subscriptions = await this.repository.subscriptionsOnDeployment(id);
    if (subscriptions.length > 0 && !force) {
      const named = subscriptions.map((s) => `'${s.id}' (${s.sink})`).join(', ');
      throw AdminError.conflict(
        `Removing the deployment '${id}' leaves subscriptions without a handler: ${named}. Remove the subscriptions first, or use the 'force' flag.`,
      );
    }
    await this.repository.deleteDeployment(id);
  }

  private async apply(store: RegistryStore, req: RegistrationRequest): Promise<Registration> {
    const existing = await store.deploymentByUri(req.uri);
    if (existing && !req.force) {
      if (!sameRegistration(existing, req)) {
        throw AdminError.conflict(
          `the deployment with uri '${req.uri}' already exists (${existing.id}) with other services or headers; use force=true to overwrite`,
        );
      }
      return {
        created: false,
        body: this.registerResponse(existing.id, existing.services, existing.manifest),
      };
    }

    const names = req.manifest.services.map((s) => s.name);
    const current = await store.currentServices(names);
    if (!req.breaking) checkServiceTypes(req.manifest.services, current);

    const id = existing?.id ?? newId('dp');
    await store.saveDeployment(
      { id, uri: req.uri, additionalHeaders: req.headers, manifest: req.manifest },
      existing === undefined,
    );
    if (existing) {
      const dropped = existing.services.map((s) => s.name).filter((n) => !names.includes(n));
      await store.deleteServices(dropped);
    }
    const services = req.manifest.services.map((s) =>
      serviceRecord(s, id, (current.get(s.name)?.revision ?? 0) + 1),
    );
    for (const service of services) await store.saveService(service);
    return {
      created: existing === undefined,
      body: this.registerResponse(id, services, req.manifest),
    };
  }

  private registerResponse(
    id: string,
    services: ServiceRecord[],
    manifest: EndpointManifest,
  ): RegisterDeploymentResponse {
    return {
      id,
      services: services.map((s) => toServiceMetadata(s, this.defaults)),
      min_protocol_version: manifest.minProtocolVersion,
      max_protocol_version: manifest.maxProtocolVersion,
    };
  }

  private base(d: DeploymentRecord): Omit<DeploymentSummary, 'services'> {
    return {
      id: d.id,
      uri: d.uri,
      protocol_type:
        d.manifest.restate?.protocolMode === 'BIDI_STREAM' ? 'BidiStream' : 'RequestResponse',
      http_version:
        d.manifest.serviceProtocol === 'restate' && d.manifest.restate?.transport !== 'http1'
          ? 'HTTP/2.0'
          : 'HTTP/1.1',
      service_protocol: d.manifest.serviceProtocol ?? 'tributary',
      additional_headers: maskHeaders(d.additionalHeaders),
      created_at: d.createdAt.toISOString(),
      min_protocol_version: d.minProtocolVersion,
      max_protocol_version: d.maxProtocolVersion,
    };
  }

  private async findOrFail(id: string): Promise<DeploymentRecord> {
    if (!isIdOfKind('dp', id)) {
      throw AdminError.badRequest(
        `The request field 'deployment' is invalid. Reason: '${id}' is not a deployment id (dp_ followed by 23 letters and digits)`,
      );
    }
    const deployment = await this.repository.findDeployment(id);
    if (!deployment) throw AdminError.notFound(`The requested deployment '${id}' does not exist`);
    return deployment;
  }
}

function serviceRecord(
  service: ManifestService,
  deploymentId: string,
  revision: number,
): ServiceRecord {
  return {
    name: service.name,
    ty: service.ty,
    deploymentId,
    revision,
    public: true,
    handlers: service.handlers.map((h) => ({
      name: h.name,
      ty: h.ty ?? null,
      inputContentType: h.input?.contentType ?? null,
      inputRequired: h.input?.required ?? false,
      outputContentType: h.output?.contentType ?? null,
      ...(h.input?.jsonSchema !== undefined ? { inputJsonSchema: h.input.jsonSchema } : {}),
      ...(h.output?.jsonSchema !== undefined ? { outputJsonSchema: h.output.jsonSchema } : {}),
    })),
  };
}

/** Restate refuses a new revision that changes a service's type unless `breaking` (or `force`). */
function checkServiceTypes(
  proposed: ManifestService[],
  current: Map<string, { ty: string }>,
): void {
  for (const service of proposed) {
    const previous = current.get(service.name);
    if (previous && previous.ty !== service.ty) {
      throw AdminError.conflict(
        `detected a new service revision for '${service.name}' changing the service type from previous revision (${previous.ty} to ${service.ty}). Service type cannot be changed across revisions; use breaking=true or force=true to change it anyway.`,
        'META0006',
      );
    }
  }
}

/** Same headers and same discovered manifest: registering again changes nothing. */
function sameRegistration(existing: DeploymentRecord, req: RegistrationRequest): boolean {
  return (
    canonicalJson(existing.additionalHeaders) === canonicalJson(req.headers) &&
    canonicalJson(existing.manifest) === canonicalJson(req.manifest) &&
    existing.services.length === req.manifest.services.length
  );
}

/** JSON with object keys sorted: Postgres jsonb does not keep key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** Header names whose values are credentials: shown as "***", like secret Kafka options. */
const SECRET_HEADER = /authorization|cookie|token|secret|password|api[-_]?key|signature/i;

export function maskHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([k, v]) => [k, SECRET_HEADER.test(k) ? '***' : v]),
  );
}
