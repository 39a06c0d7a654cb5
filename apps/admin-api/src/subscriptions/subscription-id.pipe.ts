import { Injectable, PipeTransform } from '@nestjs/common';
import { isIdOfKind } from '@tributary/shared';
import { AdminError } from '../common/admin-error';

/** Rejects a malformed id with a 400 before it reaches the database, as Restate does. */
@Injectable()
export class SubscriptionIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!isIdOfKind('sub', value)) {
      throw AdminError.badRequest(
        `Invalid subscription id '${value}': expected 'sub_' followed by 23 letters and digits, e.g. sub_17dIxfx6WtqJgknUTtNq7v3`,
      );
    }
    return value;
  }
}
