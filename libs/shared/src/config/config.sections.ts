// class-transformer's @Type reads design-time types; the loader runs before Nest loads this.
import 'reflect-metadata';
import { Type } from 'class-transformer';
import { IsOptional, ValidateBy, ValidateNested } from 'class-validator';
import {
  IsBindAddress,
  IsBoolean,
  IsHttpUrl,
  IsBrokerList,
  IsDuration,
  IsHostPatternList,
  IsMatching,
  IsNonEmptyString,
  IsNumberAtLeast,
  IsOneOf,
  IsPositiveInteger,
  IsPostgresUrl,
  IsPostgresUrlList,
  IsSecretList,
} from './config.validators';
import { LOG_LEVELS } from './config.types';
import type { LogFormat, LogLevel, OnMaxAttempts } from './config.types';

/*
 * The TOML sections other than `ingress`, as the file writes them. Property names are the
 * camelCase of the TOML keys (`bind-address` → `bindAddress`); every key is optional, defaults
 * are applied after validation. A key not declared here is reported as unknown.
 */

/** A nested table must be a table; class-validator's own message for this is unhelpful. */
function IsTable(example: string): PropertyDecorator {
  return ValidateBy({
    name: 'isTable',
    validator: {
      validate: (value: unknown) =>
        typeof value === 'object' && value !== null && !Array.isArray(value),
      defaultMessage: () => `must be a table, e.g. ${example}`,
    },
  });
}

export class DatabaseSection {
  @IsOptional() @IsPostgresUrl() url?: string;
  @IsOptional()
  @IsMatching(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'a Postgres schema name (letters, digits, _)')
  schema?: string;
  @IsOptional() @IsPostgresUrlList() shards?: string[];
}

export class AdminSection {
  @IsOptional() @IsBindAddress() bindAddress?: string;
  @IsOptional() @IsSecretList() tokens?: string[];
  @IsOptional() @IsPositiveInteger() maxBodyBytes?: number;
  @IsOptional() @IsPositiveInteger() maxManifestBytes?: number;
  @IsOptional() @IsHostPatternList() deploymentHosts?: string[];
}

export class WorkerSection {
  @IsOptional() @IsBindAddress() bindAddress?: string;
  @IsOptional() @IsDuration() leaseTtl?: string;
  @IsOptional() @IsDuration() heartbeatInterval?: string;
  @IsOptional() @IsPositiveInteger() maxRecordBytes?: number;
  @IsOptional() @IsNonEmptyString() id?: string;
}

export class InvokerSection {
  @IsOptional() @IsBindAddress() bindAddress?: string;
  @IsOptional() @IsPositiveInteger() concurrency?: number;
  @IsOptional() @IsDuration() requestTimeout?: string;
  @IsOptional() @IsNonEmptyString({ secret: true }) signingKey?: string;
  @IsOptional() @IsNonEmptyString() requestIdentityPrivateKeyPemFile?: string;
  @IsOptional() @IsDuration() leaseTtl?: string;
  @IsOptional() @IsPositiveInteger() maxResponseBytes?: number;
  @IsOptional() @IsNonEmptyString() id?: string;
}

export class RetryPolicySection {
  @IsOptional() @IsDuration() initialInterval?: string;
  @IsOptional() @IsNumberAtLeast(1) exponentiationFactor?: number;
  @IsOptional() @IsDuration() maxInterval?: string;
  @IsOptional() @IsPositiveInteger() maxAttempts?: number;
  @IsOptional() @IsOneOf(['pause', 'kill', 'dead-letter']) onMaxAttempts?: OnMaxAttempts;
}

export class InvocationSection {
  @IsOptional() @IsDuration() retention?: string;

  @IsOptional()
  @IsTable('[invocation.default-retry-policy]')
  @ValidateNested()
  @Type(() => RetryPolicySection)
  defaultRetryPolicy?: RetryPolicySection;
}

export class BusSection {
  @IsOptional() @IsBrokerList() brokers?: string[];
  @IsOptional() @IsPositiveInteger() partitions?: number;
  @IsOptional() @IsPositiveInteger() replicationFactor?: number;
  @IsOptional() @IsPositiveInteger() minInsyncReplicas?: number;
  @IsOptional()
  @IsMatching(
    /^[A-Za-z0-9._-]{1,200}$/,
    'a Kafka topic name prefix (letters, digits, ".", "_", "-")',
  )
  topicPrefix?: string;
}

export class TracingSection {
  @IsOptional() @IsBoolean() enabled?: boolean;
  @IsOptional() @IsHttpUrl() endpoint?: string;
  @IsOptional() @IsNonEmptyString() serviceName?: string;
}

export class LogSection {
  @IsOptional() @IsOneOf(['text', 'json']) format?: LogFormat;
  @IsOptional() @IsOneOf(LOG_LEVELS) level?: LogLevel;
}

/** The top-level sections validated by class; `ingress` is parsed by hand (any librdkafka key). */
export const CONFIG_SECTIONS = {
  database: DatabaseSection,
  admin: AdminSection,
  worker: WorkerSection,
  invoker: InvokerSection,
  invocation: InvocationSection,
  bus: BusSection,
  tracing: TracingSection,
  log: LogSection,
} as const;

export type SectionName = keyof typeof CONFIG_SECTIONS;
