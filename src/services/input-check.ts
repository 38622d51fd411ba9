/**
 * The schema check the admin API's routes get from Fastify, for callers that reach a service
 * directly (the CLI): the same TypeBox schema decides, so both refuse the same input.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import { Value, ValueErrorType, type ValueError } from '@sinclair/typebox/value';
import { GatewayError } from '../errors.js';

/** Throws `bad_request` naming the first offending field unless `value` matches `schema`. */
export function checkInput<T extends TSchema>(schema: T, value: unknown): asserts value is Static<T> {
  const first = Value.Errors(schema, value).First();
  if (first === undefined) return;
  const field = first.path.replace(/^\//, '').replace(/\//g, '.');
  throw new GatewayError('bad_request', `${field === '' ? 'input' : field}: ${explain(first)}`);
}

/** A nullable field fails as "Expected union value"; the non-null member says what was wrong. */
function explain(e: ValueError): string {
  for (const member of e.errors) {
    const inner = member.First();
    if (inner !== undefined && inner.type !== ValueErrorType.Null) return explain(inner);
  }
  return e.message;
}
