import { IsOptional, IsString } from 'class-validator';

/** Exact-match filters of `GET /subscriptions`, ANDed. */
export class ListSubscriptionsQuery {
  @IsOptional()
  @IsString()
  source?: string;

  @IsOptional()
  @IsString()
  sink?: string;
}
