import { IsBoolean, IsDefined, IsOptional } from 'class-validator';
import { IsHeaderMap, IsHttpUri, IsStringMap } from './request-validators';

/**
 * `POST /deployments`, Restate's `RegisterHttpDeploymentRequest`. Restate's CLI always sends
 * `use_http_11` and `breaking`, so both are accepted.
 */
export class RegisterDeploymentDto {
  @IsDefined({ message: 'uri is required: the base URI of the handler deployment' })
  @IsHttpUri()
  uri: string;

  /** Sent with every discover and invoke request, e.g. API keys. */
  @IsOptional()
  @IsHeaderMap()
  additional_headers?: Record<string, string>;

  /** Tributary always speaks HTTP/1.1 to deployments (docs/protocol.md); accepted either way. */
  @IsOptional()
  @IsBoolean()
  use_http_11?: boolean;

  /** Allow a service to change its type (e.g. Service to VirtualObject). */
  @IsOptional()
  @IsBoolean()
  breaking?: boolean;

  /** Overwrite the deployment with the same URI; implies `breaking`. */
  @IsOptional()
  @IsBoolean()
  force?: boolean;

  /** Discover and answer what would be registered, storing nothing. */
  @IsOptional()
  @IsBoolean()
  dry_run?: boolean;

  /** Restate's deployment metadata; not stored by Tributary, so only an empty map is accepted. */
  @IsOptional()
  @IsStringMap()
  metadata?: Record<string, string>;
}
