import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { BATCH_PROTOCOL_VERSION, type HandlerType, type ServiceType } from '@tributary/shared';
import type { RetryPolicyOverride } from './retry-policy';

export interface HandlerTarget {
  deploymentUri: string;
  serviceTy: ServiceType;
  handlerTy: HandlerType | null;
  /**
   * Set for a deployment served by a Restate SDK: the invoker speaks Restate's service protocol
   * to it, in the versions its manifest gives.
   */
  restate?: {
    minProtocolVersion: number;
    maxProtocolVersion: number;
    protocolMode: 'BIDI_STREAM' | 'REQUEST_RESPONSE';
    transport: 'http2' | 'http1';
  };
  /**
   * A Tributary protocol deployment that serves `POST /invoke-batch` (it announced protocol
   * version 2): invocations started together share requests.
   */
  batch: boolean;
  additionalHeaders: Record<string, string>;
  inputContentType: string | null;
  /** Service-level then handler-level overrides from the manifest. */
  retryPolicies: RetryPolicyOverride[];
}

interface Row {
  service_name: string;
  handler_name: string;
  service_ty: ServiceType;
  handler_ty: HandlerType | null;
  input_content_type: string | null;
  uri: string;
  additional_headers: Record<string, string>;
  manifest: unknown;
}

const REFRESH_MS = 2_000;

/** Optional retry settings in a manifest entry, named as in Restate's endpoint manifest. */
function manifestRetryPolicy(entry: Record<string, unknown> | undefined): RetryPolicyOverride {
  if (!entry) return {};
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const mode = entry.retryPolicyOnMaxAttempts;
  return {
    initialIntervalMs: n(entry.retryPolicyInitialInterval),
    exponentiationFactor: n(entry.retryPolicyExponentiationFactor),
    maxIntervalMs: n(entry.retryPolicyMaxInterval),
    maxAttempts: n(entry.retryPolicyMaxAttempts),
    onMaxAttempts: mode === 'KILL' ? 'kill' : mode === 'PAUSE' ? 'pause' : undefined,
  };
}

/** Where each handler lives, cached from the registry and refreshed every couple of seconds. */
@Injectable()
export class HandlerRegistry {
  private readonly logger = new Logger('registry');
  private targets = new Map<string, HandlerTarget>();
  private loadedAt = 0;
  private loading?: Promise<void>;

  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  async resolve(service: string, handler: string): Promise<HandlerTarget | undefined> {
    if (Date.now() - this.loadedAt > REFRESH_MS) await this.refresh();
    const found = this.targets.get(`${service}/${handler}`);
    if (found) return found;
    // Registered a moment ago? Look once more before calling it gone.
    if (Date.now() - this.loadedAt > 200) await this.refresh();
    return this.targets.get(`${service}/${handler}`);
  }

  /** Handlers known as of the last load. */
  get size(): number {
    return this.targets.size;
  }

  /** Loads the registry again if the last load is older than the cache's life. */
  async refreshIfStale(): Promise<void> {
    if (Date.now() - this.loadedAt > REFRESH_MS) await this.refresh();
  }

  refresh(): Promise<void> {
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async load(): Promise<void> {
    const rows: Row[] = await this.db.query(`
      SELECT h.service_name, h.name AS handler_name, s.ty AS service_ty, h.ty AS handler_ty,
             h.input_content_type, d.uri,
             d.additional_headers, d.manifest
        FROM handlers h
        JOIN services s ON s.name = h.service_name
        JOIN deployments d ON d.id = s.deployment_id`);
    const next = new Map<string, HandlerTarget>();
    for (const r of rows) {
      const manifest = r.manifest as {
        services?: Record<string, unknown>[];
        serviceProtocol?: string;
        restate?: {
          protocolMode?: 'BIDI_STREAM' | 'REQUEST_RESPONSE';
          transport?: 'http2' | 'http1';
        };
        minProtocolVersion?: number;
        maxProtocolVersion?: number;
      } | null;
      const services = manifest?.services;
      const svc = services?.find((s) => s.name === r.service_name);
      const handlers = svc?.handlers as Record<string, unknown>[] | undefined;
      const h = handlers?.find((x) => x.name === r.handler_name);
      next.set(`${r.service_name}/${r.handler_name}`, {
        deploymentUri: r.uri,
        serviceTy: r.service_ty,
        handlerTy: r.handler_ty,
        ...(manifest?.serviceProtocol === 'restate' && {
          restate: {
            minProtocolVersion: manifest.minProtocolVersion ?? 5,
            maxProtocolVersion: manifest.maxProtocolVersion ?? 5,
            // Deployments registered before these were stored: as discovery found them then.
            protocolMode: manifest.restate?.protocolMode ?? 'REQUEST_RESPONSE',
            transport: manifest.restate?.transport ?? 'http2',
          },
        }),
        batch:
          manifest?.serviceProtocol !== 'restate' &&
          (manifest?.maxProtocolVersion ?? 1) >= BATCH_PROTOCOL_VERSION,
        additionalHeaders: r.additional_headers ?? {},
        inputContentType: r.input_content_type,
        retryPolicies: [manifestRetryPolicy(svc), manifestRetryPolicy(h)],
      });
    }
    if (next.size !== this.targets.size) this.logger.log(`${next.size} handlers registered`);
    this.targets = next;
    this.loadedAt = Date.now();
  }
}
