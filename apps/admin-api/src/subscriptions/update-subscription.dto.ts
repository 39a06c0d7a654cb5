import { IsObject } from 'class-validator';

/** `PATCH /subscriptions/{id}`: the new options, replacing the old ones. */
export class UpdateSubscriptionDto {
  @IsObject()
  options: Record<string, unknown>;
}
