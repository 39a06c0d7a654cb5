import { Injectable, PipeTransform } from '@nestjs/common';
import { isIdOfKind } from '@tributary/shared';
import { AdminError } from '../common/admin-error';

/** Rejects a malformed id with Restate's 400 before it reaches the database. */
@Injectable()
export class InvocationIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!isIdOfKind('inv', value)) {
      throw AdminError.badRequest(
        `The request field 'invocation_id' is invalid. Reason: invalid invocation id '${value}': expected 'inv_' followed by 34 letters and digits, e.g. inv_1gdJBtdVEcM942bjcDmb1c1khoaJe11Hbz`,
      );
    }
    return value;
  }
}
