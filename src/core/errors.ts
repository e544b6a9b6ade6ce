/**
 * Errors a user can meet ("can happen" failures). Each has a stable `code` that
 * clients and tests match on, and a message that says what to do next.
 * Broken invariants are not errors of this kind: they go through `assert()`.
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'PORT_IN_USE'
  | 'PEER_UNREACHABLE'
  | 'TIMEOUT'
  | 'ABORTED'
  | 'UNKNOWN_METHOD'
  | 'QUEUE_FULL'
  | 'TRANSPORT_CLOSED'
  | 'REMOTE_ERROR'
  | 'BAD_REQUEST'
  | 'NOT_FOUND'
  | 'NO_ROUTE'
  | 'NOT_OWNER'
  | 'NOT_IN_RING'
  | 'TOO_LARGE'
  | 'STORE_FULL';

export class WeftError extends Error {
  override readonly name: string = 'WeftError';
  readonly code: ErrorCode;
  /** Structured context for logs and API bodies (field names, addresses, limits). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.code = code;
    this.details = details;
  }
}

/** A configuration value that cannot be used. `field` is the flag name without dashes. */
export class ConfigError extends WeftError {
  override readonly name = 'ConfigError';
  readonly field: string;

  constructor(field: string, message: string) {
    super('CONFIG_INVALID', `${field}: ${message}`, { field });
    this.field = field;
  }
}

export function isWeftError(error: unknown, code?: ErrorCode): error is WeftError {
  return error instanceof WeftError && (code === undefined || error.code === code);
}

/** Best-effort message of anything thrown, for logs. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
