import type { FastifyError, FastifyInstance } from 'fastify';
import { ERROR_STATUS, type ErrorCode, isTokenmeterError } from '../core/errors.ts';
import type { ErrorJson } from '../ledger/wire.ts';

/** A non-2xx answer: always `{success: false, code, error}`. */
export function errorBody(code: ErrorCode, error: string): ErrorJson {
  return { success: false, code, error };
}

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_request',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_request',
};

/**
 * Maps every failure to the closed list of codes. Validation errors name the field; a
 * TokenmeterError keeps its code and message; anything else is a 500 whose details stay in
 * the log, never a stack trace or SQL in the response.
 */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (isTokenmeterError(err)) {
      if (err.code === 'unavailable') request.log.warn({ err: err.message }, 'store unavailable');
      return reply.status(ERROR_STATUS[err.code]).send(errorBody(err.code, err.message));
    }
    if (err.validation) {
      const first = err.validation[0];
      const where = err.validationContext ?? 'body';
      const path = first?.instancePath ? first.instancePath.slice(1).replaceAll('/', '.') : '';
      const extra =
        first?.params && 'additionalProperty' in first.params ? String(first.params.additionalProperty) : '';
      const field = [path, extra].filter(Boolean).join('.') || where;
      const message = extra ? 'is not a known field' : (first?.message ?? 'is invalid');
      return reply.status(400).send(errorBody('invalid_request', `${field}: ${message}`));
    }
    const mapped = err.code ? FASTIFY_CODES[err.code] : undefined;
    if (mapped) {
      const message = mapped === 'invalid_request' ? 'body: not valid JSON' : err.message;
      return reply.status(ERROR_STATUS[mapped]).send(errorBody(mapped, message));
    }
    if (err.statusCode === 429)
      return reply.status(429).send(errorBody('rate_limited', 'Too many requests; slow down'));
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.status(err.statusCode).send(errorBody('invalid_request', err.message));
    }
    request.log.error({ err }, 'unhandled error');
    return reply.status(500).send(errorBody('internal', 'Internal error; details are in the server log'));
  });

  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send(errorBody('not_found', `No route ${request.method} ${request.url.split('?')[0]}`)),
  );
}
