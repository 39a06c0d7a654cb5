import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import {
  DiscoveryError,
  EndpointManifest,
  HandlerClient,
  TRIBUTARY_CONFIG,
  TributaryConfig,
} from '@tributary/shared';
import {
  discoverEndpoint,
  DiscoveryError as RestateDiscoveryError,
  loadRequestIdentity,
  ManifestValidationError,
  RequestIdentity,
  toStoredManifest,
} from '@tributary/shared/restate';
import { AdminError } from '../common/admin-error';
import { HostPattern, isHostAllowed, parseHostPatterns } from './deployment-hosts';

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
    case 'too-large':
      return 'META0013';
    case 'invalid-uri':
      return null;
  }
}

/**
 * Whether an endpoint that failed the handler protocol's discovery may be a Restate SDK one: not
 * when the URI is invalid, the answer too large, or nothing answered at all (refused, no such
 * host, no answer in time); an HTTP/2-only server, an error status or a foreign answer may be.
 */
function worthTryingRestate(err: DiscoveryError): boolean {
  const hopeless = ['invalid-uri', 'too-large', 'timeout'].includes(err.reason);
  return !hopeless && !err.nothingAnswered;
}

/**
 * `GET {uri}/discover` through the handler protocol client; failures become 400s. Only hosts in
 * `admin.deployment-hosts` (when set) are contacted, and no more than `admin.max-manifest-bytes`
 * of an answer is read. Error messages say what failed, never what the answer contained.
 */
@Injectable()
export class DeploymentDiscovery implements OnModuleDestroy {
  private readonly client: HandlerClient;
  private readonly signingKey?: string;
  private readonly identity?: RequestIdentity;
  private readonly allowedHosts: HostPattern[];
  private readonly maxManifestBytes: number;

  constructor(@Inject(TRIBUTARY_CONFIG) config: TributaryConfig) {
    this.client = new HandlerClient({
      connectTimeoutMs: DISCOVERY_TIMEOUT_MS,
      maxResponseBytes: config.admin.maxManifestBytes,
      maxResponseBytesSetting: 'admin.max-manifest-bytes',
    });
    // Deployments that verify the invoker's signature check discovery requests too.
    this.signingKey = config.invoker.signingKey;
    // Restate SDK endpoints started with identityKeys check discovery's signature as well.
    this.identity = loadRequestIdentity(config.invoker.requestIdentityPrivateKeyPemFile);
    this.allowedHosts = parseHostPatterns(config.admin.deploymentHosts);
    this.maxManifestBytes = config.admin.maxManifestBytes;
  }

  /**
   * The manifest of a `@tributary/sdk` endpoint (the handler protocol, HTTP/1.1), or else of an
   * endpoint served by a Restate SDK (Restate's service protocol, HTTP/2 or HTTP/1.1), stored
   * marked `serviceProtocol: 'restate'`. An endpoint that is neither is refused with what each try
   * answered.
   */
  async discover(uri: string, headers: Record<string, string>): Promise<EndpointManifest> {
    this.checkHost(uri);
    let tributary: DiscoveryError;
    try {
      return await this.client.discover(uri, {
        headers,
        timeoutMs: DISCOVERY_TIMEOUT_MS,
        signingKey: this.signingKey,
      });
    } catch (err) {
      if (!(err instanceof DiscoveryError)) throw err;
      tributary = err;
    }
    if (!worthTryingRestate(tributary)) {
      throw this.refusal(uri, `discovery failed: ${tributary.message}`, tributary);
    }
    try {
      const found = await discoverEndpoint(uri, {
        headers,
        timeoutMs: DISCOVERY_TIMEOUT_MS,
        maxBytes: this.maxManifestBytes,
        identity: this.identity,
      });
      return toStoredManifest(found.manifest, found.transport);
    } catch (err) {
      if (!(err instanceof RestateDiscoveryError) && !(err instanceof ManifestValidationError)) {
        throw err;
      }
      throw this.refusal(
        uri,
        `discovery failed: as a Tributary handler endpoint (HTTP/1.1 GET /discover, JSON): ${tributary.message}; as a Restate SDK endpoint (service protocol): ${err.message}${this.identityAdvice(err)}`,
        tributary,
      );
    }
  }

  /** What to configure when a Restate SDK endpoint refused discovery for want of identity. */
  private identityAdvice(err: RestateDiscoveryError | ManifestValidationError): string {
    if (!(err instanceof RestateDiscoveryError) || !err.identityRefused) return '';
    const setting =
      'invoker.request-identity-private-key-pem-file (TRIBUTARY_REQUEST_IDENTITY_PRIVATE_KEY_PEM_FILE)';
    return this.identity === undefined
      ? `. To sign requests as Restate's server does, set ${setting} to the Ed25519 private key whose publickeyv1_... the endpoint lists in identityKeys`
      : `. Requests are signed with ${this.identity.publicKeyV1()} (the key in ${setting}): the endpoint must list it in identityKeys`;
  }

  private refusal(uri: string, why: string, err: DiscoveryError): AdminError {
    return AdminError.badRequest(
      `Cannot register the deployment at '${uri}': ${why}`,
      restateCodeOf(err),
    );
  }

  /** Refuses, before any connection, a URI whose host `admin.deployment-hosts` does not list. */
  private checkHost(uri: string): void {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      return; // the client reports the invalid URI
    }
    if (!isHostAllowed(url, this.allowedHosts)) {
      throw AdminError.badRequest(
        `Cannot register the deployment at '${uri}': the host '${url.host}' is not in admin.deployment-hosts`,
      );
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.client.close();
  }
}
