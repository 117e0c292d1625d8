import { Ajv } from 'ajv';
import type { FastifyInstance } from 'fastify';

/**
 * Fastify's default validator silently drops unknown properties and turns "5" into 5. Here a
 * body is validated as sent: unknown properties are refused (no mass assignment) and a string
 * is not a number. Query strings and path params are text by nature, so only they are coerced.
 */
export function installStrictValidation(app: FastifyInstance): void {
  const strict = new Ajv({
    removeAdditional: false,
    coerceTypes: false,
    useDefaults: false,
    allErrors: false,
    strict: false,
  });
  const coercing = new Ajv({
    removeAdditional: false,
    coerceTypes: true,
    useDefaults: true,
    allErrors: false,
    strict: false,
  });
  app.setValidatorCompiler(({ schema, httpPart }) => {
    const ajv = httpPart === 'body' ? strict : coercing;
    return ajv.compile(schema);
  });
}
