// Domain errors carry a stable code; src/http/error-table.ts is the one place that maps codes to HTTP.
export type ErrorCode =
  | 'ERR_NOT_FOUND'
  | 'ERR_VALIDATION'
  | 'ERR_BAD_PARAMETER'
  | 'ERR_CONFLICT'
  | 'ERR_TOKEN_INVALID'
  | 'ERR_SCOPE'
  | 'ERR_USER_REQUIRED'
  | 'ERR_RATE_LIMITED'
  | 'ERR_PAYLOAD_TOO_LARGE'
  | 'ERR_UNSUPPORTED_MEDIA_TYPE'
  | 'ERR_AUTH_UNAVAILABLE'
  | 'ERR_URI_TOO_LONG';

export class HeraldError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'HeraldError';
  }
}

export const notFound = (): HeraldError => new HeraldError('ERR_NOT_FOUND', 'Record not found');

/** Mastodon's ActiveRecord wording: "Validation failed: a, b". */
export const validationFailed = (...messages: string[]): HeraldError =>
  new HeraldError('ERR_VALIDATION', `Validation failed: ${messages.join(', ')}`);

export const badParameter = (message: string): HeraldError => new HeraldError('ERR_BAD_PARAMETER', message);
