import { IsOptional, IsString, registerDecorator } from 'class-validator';

/** Postgres refuses a NUL in text, and no source or sink holds one; other checks cover non-strings. */
function HasNoNul(): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: 'hasNoNul',
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message: '$property must not contain a NUL character (%00)' },
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || !value.includes('\0'),
      },
    });
  };
}

const ONCE = { message: '$property must be given once, as a plain string' };

/** Exact-match filters of `GET /subscriptions`, ANDed. */
export class ListSubscriptionsQuery {
  @IsOptional()
  @IsString(ONCE)
  @HasNoNul()
  source?: string;

  @IsOptional()
  @IsString(ONCE)
  @HasNoNul()
  sink?: string;
}
