import { IsObject, IsOptional, IsString } from 'class-validator';

/** Restate's `POST /subscriptions` body. */
export class CreateSubscriptionDto {
  /** `kafka://<cluster>/<topic>` */
  @IsString()
  source: string;

  /** `service://<service>/<handler>` */
  @IsString()
  sink: string;

  /** librdkafka options and `tributary.*` options, values as strings (checked by the service). */
  @IsOptional()
  @IsObject()
  options?: Record<string, unknown>;
}
