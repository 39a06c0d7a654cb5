import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import {
  DiscoveryError,
  EndpointManifest,
  HandlerClient,
  TRIBUTARY_CONFIG,
  TributaryConfig,
} from '@tributary/shared';
import { AdminError } from '../common/admin-error';

const DISCOVERY_TIMEOUT_MS = 5_000;

// Restate's codes: META0003 the deployment could not be reached or answered an error status,
// META0013 its answer was not a usable manifest.
function restateCodeOf(err: DiscoveryError): string | null {
  switch (err.reason) {
    case 'unreachable':
    case 'timeout':
    case 'http-status':
      return 'META0003';
    case 'not-json':
    case 'not-manifest':
      return 'META0013';
    case 'invalid-uri':
      return null;
  }
}

/** `GET {uri}/discover` through the handler protocol client; failures become 400s. */
@Injectable()
export class DeploymentDiscovery implements OnModuleDestroy {
  private readonly client = new HandlerClient({ connectTimeoutMs: DISCOVERY_TIMEOUT_MS });
  private readonly signingKey?: string;

  constructor(@Inject(TRIBUTARY_CONFIG) config: TributaryConfig) {
    // Deployments that verify the invoker's signature check discovery requests too.
    this.signingKey = config.invoker.signingKey;
  }

  async discover(uri: string, headers: Record<string, string>): Promise<EndpointManifest> {
    try {
      return await this.client.discover(uri, {
        headers,
        timeoutMs: DISCOVERY_TIMEOUT_MS,
        signingKey: this.signingKey,
      });
    } catch (err) {
      if (!(err instanceof DiscoveryError)) throw err;
      throw AdminError.badRequest(
        `Cannot register the deployment at '${uri}': discovery failed: ${err.message}`,
        restateCodeOf(err),
      );
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.client.close();
  }
}
