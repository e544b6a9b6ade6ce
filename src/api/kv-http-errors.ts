import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { WeftError, type ErrorCode } from '../core/errors.ts';

/**
 * WeftErrors of the KV and cluster services as HTTP statuses, at the
 * boundary. Availability errors are 503 with a Retry-After hint: the client
 * may retry (a write with the same effect, since nothing reports whether it
 * applied). Anything else unexpected is a 500.
 */
const statusOfCode: Partial<Record<ErrorCode, number>> = {
  INVALID_REQUEST: 400,
  DECODE_FAILED: 400,
  KEY_TOO_LARGE: 400,
  TOO_MANY_OPS: 400,
  DUPLICATE_KEY: 400,
  VALUE_PROVIDED: 400,
  LEASE_PROVIDED: 400,
  FUTURE_REV: 400,
  KEY_NOT_FOUND: 404,
  LEASE_NOT_FOUND: 404,
  MEMBER_NOT_FOUND: 404,
  MEMBER_EXISTS: 409,
  LEARNER_NOT_READY: 409,
  MEMBER_NOT_LEARNER: 409,
  CONF_CHANGE_INVALID: 409,
  ALREADY_APPLIED: 409,
  COMPACTED: 410,
  VALUE_TOO_LARGE: 413,
  REQUEST_TOO_LARGE: 413,
};

const unavailableCodes: readonly ErrorCode[] = [
  'NOT_LEADER',
  'TIMEOUT',
  'ABORTED',
  'PROPOSAL_DROPPED',
  'OVERLOADED',
  'TRANSFER_IN_PROGRESS',
  'PEER_UNREACHABLE',
  'CONF_CHANGE_PENDING',
  'NODE_REMOVED',
  'TRANSPORT_CLOSED',
];

/** Seconds a client should wait before retrying after a 503: about one election. */
export const RETRY_AFTER_SECONDS = 1;

export interface HttpErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}

export function httpStatusOf(code: ErrorCode): number {
  return unavailableCodes.includes(code) ? 503 : (statusOfCode[code] ?? 500);
}

/** Fastify's own 4xx errors (unparsable body, body over the limit, bad URL) under our codes. */
function fastifyErrorCode(error: FastifyError): string {
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return 'REQUEST_TOO_LARGE';
  return 'INVALID_REQUEST';
}

export function sendError(reply: FastifyReply, error: unknown): FastifyReply {
  if (error instanceof WeftError) {
    const status = httpStatusOf(error.code);
    if (status === 503) void reply.header('retry-after', String(RETRY_AFTER_SECONDS));
    return reply.code(status).send({ error: { code: error.code, message: error.message } } satisfies HttpErrorBody);
  }
  const fastifyError = error as FastifyError;
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return reply
      .code(status)
      .send({ error: { code: fastifyErrorCode(fastifyError), message: fastifyError.message } } satisfies HttpErrorBody);
  }
  throw error;
}

/** Fastify's `frameworkErrors`: a URL it cannot decode (e.g. invalid UTF-8 in the path) as our JSON 400. */
export function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const message =
    error.code === 'FST_ERR_BAD_URL' ? `${error.message}: the path must be %-escaped UTF-8 text` : error.message;
  void reply
    .code(error.statusCode ?? 400)
    .send({ error: { code: 'INVALID_REQUEST', message } } satisfies HttpErrorBody);
}
