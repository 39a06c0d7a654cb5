/**
 * An error the admin API answers with Restate's body `{message, restate_code}`. Services throw
 * these; the exception filter turns them into responses. Messages say what to fix.
 */
export class AdminError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly restateCode: string | null = null,
  ) {
    super(message);
  }

  static badRequest(message: string, restateCode: string | null = null): AdminError {
    return new AdminError(400, message, restateCode);
  }

  static notFound(message: string, restateCode: string | null = null): AdminError {
    return new AdminError(404, message, restateCode);
  }

  static conflict(message: string, restateCode: string | null = null): AdminError {
    return new AdminError(409, message, restateCode);
  }
}
