import { Ajv } from 'ajv';
import type { FastifyInstance } from 'fastify';
import { textProblem } from '../core/well-formed-text.ts';
import { WELL_FORMED } from './schemas.ts';

/**
 * Fastify's default validator silently drops unknown properties and turns "5" into 5. Here a
 * body is validated as sent: unknown properties are refused (no mass assignment) and a string
 * is not a number. Query strings and path params are text by nature, so only they are coerced.
 * Every part knows `x-well-formed`: the engine's own text rule, so a request with a lone
 * surrogate or a control character is a 400 naming the field before the engine is called.
 */
export function installStrictValidation(app: FastifyInstance): void {
  const strict = withTextRule(
    new Ajv({
      removeAdditional: false,
      coerceTypes: false,
      useDefaults: false,
      allErrors: false,
      strict: false,
    }),
  );
  const coercing = withTextRule(
    new Ajv({
      removeAdditional: false,
      coerceTypes: true,
      useDefaults: true,
      allErrors: false,
      strict: false,
    }),
  );
  app.setValidatorCompiler(({ schema, httpPart }) => {
    const ajv = httpPart === 'body' ? strict : coercing;
    return ajv.compile(schema);
  });
}

function withTextRule(ajv: Ajv): Ajv {
  return ajv.addKeyword({
    keyword: WELL_FORMED,
    type: 'string',
    schemaType: 'boolean',
    validate: (wanted: boolean, value: string) => !wanted || textProblem(value) === null,
    error: { message: 'must be well-formed Unicode without control characters' },
  });
}
