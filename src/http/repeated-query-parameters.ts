import type { FastifySchemaCompiler } from 'fastify';
import { z } from 'zod';
import type { $ZodType } from 'zod/v4/core';
import { AppError } from '../server/errors.js';

/**
 * Wraps the schema compiler so that a query parameter given more than once is refused with 400
 * VALIDATION_FAILED before the route's schema sees it, unless that schema declares it a list.
 *
 * HTTP parameter pollution: `?action=member.removed&action=audit.exported` means something different
 * to each layer that reads it — a proxy or a log filter may take the first value, one framework the
 * last, another both joined with a comma, a coercing schema `NaN` or `"a,b"`. Refusing the repeat is
 * the only reading every layer agrees on, and it does not depend on how each schema coerces.
 *
 * @example
 * app.setValidatorCompiler(refuseRepeatedQueryParameters(validatorCompiler));
 */
export function refuseRepeatedQueryParameters(compile: FastifySchemaCompiler<$ZodType>): FastifySchemaCompiler<$ZodType> {
  return (routeSchema) => {
    const validate = compile(routeSchema);
    if (routeSchema.httpPart !== 'querystring') return validate;
    const listValued = listValuedParameters(routeSchema.schema);
    return (query: unknown) => {
      const repeated = Object.entries(query ?? {})
        .filter(([name, value]) => Array.isArray(value) && !listValued.has(name))
        .map(([name]) => name);
      return repeated.length === 0 ? validate(query) : { error: repeatedParametersError(repeated) };
    };
  };
}

type Described = { type?: unknown; anyOf?: Described[]; oneOf?: Described[] };
const acceptsArray = (schema: Described): boolean => schema.type === 'array' || [...(schema.anyOf ?? []), ...(schema.oneOf ?? [])].some(acceptsArray);

/**
 * The parameters the schema accepts as an array (`z.array(…)`, or a union with one). Anything it
 * cannot describe counts as single-valued: the strict reading.
 */
function listValuedParameters(schema: $ZodType): ReadonlySet<string> {
  try {
    const described = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, Described> };
    return new Set(Object.entries(described.properties ?? {}).filter(([, property]) => acceptsArray(property)).map(([name]) => name));
  } catch {
    return new Set();
  }
}

function repeatedParametersError(names: readonly string[]): AppError {
  // JSON Pointer (RFC 6901), like the paths of every other validation error.
  const pointer = (name: string) => `/${name.replaceAll('~', '~0').replaceAll('/', '~1')}`;
  return new AppError('VALIDATION_FAILED', {
    publicMessage: 'The request querystring is invalid.',
    extensions: { errors: names.map((name) => ({ in: 'querystring', path: pointer(name), message: 'must be given once, not repeated' })) },
  });
}
