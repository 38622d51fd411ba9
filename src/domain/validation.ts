/**
 * Validates a parsed request body against the mirrored schema and reports failures the way fal
 * does: FastAPI + pydantic v2 issues under `loc: ["body", …]` (docs/fal-protocol.md §2.7 (a)),
 * so fal clients surface gateway rejections exactly like fal's own 422s.
 *
 * The gateway forwards the client's original bytes, never a re-serialization, so what is validated
 * must be exactly what is forwarded: Ajv never coerces, fills defaults or strips fields here (the
 * class of bug in GHSA-v2v2-hph8-q5xp is validating one thing and sending another).
 * Deliberate difference from fal: pydantic's lax mode would accept `"4"` for an integer or `"true"`
 * for a boolean; the gateway refuses them, because it quotes from the values it validated.
 */
import { Ajv, type DefinedError, type ErrorObject } from 'ajv';
import { createInputSchema, IMAGE_SIZE_PRESET_NAMES, type Sd35Input } from './schema.js';

export interface ValidationIssue {
  loc: (string | number)[];
  msg: string;
  type: string;
  ctx?: Record<string, unknown>;
  input?: unknown;
}

/** `reject`: unknown fields get 422 `extra_forbidden`. `forward`: they pass to fal untouched. */
export type UnknownFieldPolicy = 'reject' | 'forward';

export type InputValidation = { ok: true; input: Sd35Input } | { ok: false; issues: ValidationIssue[] };

type JsonType = 'object' | 'array' | 'string' | 'number' | 'boolean' | 'null' | 'other';
type Path = (string | number)[];

function jsonTypeOf(value: unknown): JsonType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  const t = typeof value;
  return t === 'object' || t === 'string' || t === 'number' || t === 'boolean' ? t : 'other';
}

/** pydantic's rendering of literal choices: `'a', 'b' or 'c'`. */
function pyLiterals(values: readonly unknown[]): string {
  const shown = values.map((v) => (typeof v === 'string' ? `'${v}'` : String(v)));
  const last = shown.pop() ?? '';
  return shown.length > 0 ? `${shown.join(', ')} or ${last}` : last;
}

function valueAt(root: unknown, path: Path): unknown {
  let node = root;
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node;
}

/** JSON Pointer (`/image_size/width`, RFC 6901 escapes) to path segments. */
function pointerToPath(pointer: string): Path {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

const issue = (path: Path, type: string, msg: string, input: unknown, ctx?: Record<string, unknown>): ValidationIssue =>
  ctx === undefined ? { loc: ['body', ...path], msg, type, input } : { loc: ['body', ...path], msg, type, ctx, input };

/** pydantic v2 type errors; a non-finite number is reported as pydantic's `finite_number`. */
function typeIssue(path: Path, expected: string, value: unknown): ValidationIssue {
  if (typeof value === 'number' && !Number.isFinite(value) && (expected === 'number' || expected === 'integer')) {
    return issue(path, 'finite_number', 'Input should be a finite number', value);
  }
  switch (expected) {
    case 'string':
      return issue(path, 'string_type', 'Input should be a valid string', value);
    case 'integer':
      return typeof value === 'number'
        ? issue(path, 'int_from_float', 'Input should be a valid integer, got a number with a fractional part', value)
        : issue(path, 'int_type', 'Input should be a valid integer', value);
    case 'number':
      return issue(path, 'float_type', 'Input should be a valid number', value);
    case 'boolean':
      return issue(path, 'bool_type', 'Input should be a valid boolean', value);
    default:
      return issue(path, 'model_type', 'Input should be a valid dictionary', value);
  }
}

/** One Ajv error to one issue; `null` for errors that only summarise others (`anyOf`). */
function toIssue(error: DefinedError, body: unknown): ValidationIssue | null {
  const at = pointerToPath(error.instancePath);
  const value = valueAt(body, at);
  switch (error.keyword) {
    case 'required':
      // pydantic reports the object that lacks the field as `input`.
      return issue([...at, error.params.missingProperty], 'missing', 'Field required', value);
    case 'additionalProperties': {
      const name = error.params.additionalProperty;
      return issue([...at, name], 'extra_forbidden', 'Extra inputs are not permitted', valueAt(value, [name]));
    }
    case 'type':
      return typeIssue(at, String(error.params.type), value);
    case 'maximum':
    case 'minimum':
    case 'exclusiveMaximum':
    case 'exclusiveMinimum': {
      const limit = error.params.limit;
      if (error.params.comparison === '<=') return issue(at, 'less_than_equal', `Input should be less than or equal to ${limit}`, value, { le: limit });
      if (error.params.comparison === '>=') return issue(at, 'greater_than_equal', `Input should be greater than or equal to ${limit}`, value, { ge: limit });
      if (error.params.comparison === '<') return issue(at, 'less_than', `Input should be less than ${limit}`, value, { lt: limit });
      return issue(at, 'greater_than', `Input should be greater than ${limit}`, value, { gt: limit });
    }
    case 'enum': {
      const expected = pyLiterals(error.params.allowedValues as unknown[]);
      return issue(at, 'literal_error', `Input should be ${expected}`, value, { expected });
    }
    case 'anyOf':
      return null;
    default:
      return issue(at, 'value_error', `Input failed the ${error.keyword} constraint`, value);
  }
}

const TYPE_ISSUES = new Set(['string_type', 'int_type', 'int_from_float', 'float_type', 'bool_type', 'finite_number', 'model_type']);

/**
 * Compiles the schema once and returns the hot-path validator. The happy path costs one `typeof`
 * check plus Ajv's generated code; issue mapping only runs on failures.
 */
export function createInputValidator(opts: { unknownFields: UnknownFieldPolicy }): (body: unknown) => InputValidation {
  const schema = createInputSchema({ additionalProperties: opts.unknownFields === 'forward' });
  const ajv = new Ajv({
    allErrors: true, // report every problem at once, as pydantic does
    coerceTypes: false, // validate exactly the bytes that will be forwarded
    useDefaults: false, // fal applies defaults itself; filling them here would mutate the body
    removeAdditional: false, // `forward` must leave unknown fields untouched
    strict: true, // a typo in the schema fails at start-up, not silently at runtime
    strictNumbers: true, // NaN/Infinity cannot come from JSON; refuse them anyway
    ownProperties: true, // never read a field through the prototype chain
    messages: false, // messages are rebuilt in pydantic's wording below
  });
  const validate = ajv.compile<Sd35Input>(schema);

  const fieldOrder = Object.keys(schema.properties);
  // Which JSON type each `anyOf` branch accepts, per top-level field (only `image_size` today).
  const unionBranches = new Map<string, string[]>();
  for (const [name, prop] of Object.entries(schema.properties) as [string, { anyOf?: { type?: string }[] }][]) {
    if (prop.anyOf) unionBranches.set(name, prop.anyOf.map((b) => b.type ?? ''));
  }
  const imageSizeKeys = ['width', 'height'];

  /** Keeps only errors of the `anyOf` branch that fits the value's JSON type; one issue if none fits. */
  function mapErrors(errors: ErrorObject[], body: Record<string, unknown>): ValidationIssue[] {
    const issues: ValidationIssue[] = [];
    for (const [field, branchTypes] of unionBranches) {
      const prefix = `#/properties/${field}/anyOf/`;
      if (!errors.some((e) => e.schemaPath.startsWith(prefix))) continue;
      const fit = branchTypes.indexOf(jsonTypeOf(body[field]));
      if (fit < 0) {
        const expected = `an object {width, height} or ${pyLiterals(IMAGE_SIZE_PRESET_NAMES)}`;
        issues.push(issue([field], 'image_size_type', `Input should be ${expected}`, body[field], { expected }));
      }
      errors = errors.filter((e) => !e.schemaPath.startsWith(prefix) || (fit >= 0 && e.schemaPath.startsWith(`${prefix}${fit}/`)));
    }
    for (const e of errors) {
      const mapped = toIssue(e as DefinedError, body);
      if (mapped) issues.push(mapped);
    }
    return order(dedupe(issues), body);
  }

  /** pydantic stops at a field's type error: drop range errors under it, and exact repeats. */
  function dedupe(issues: ValidationIssue[]): ValidationIssue[] {
    const typed = new Set(issues.filter((i) => TYPE_ISSUES.has(i.type)).map((i) => JSON.stringify(i.loc)));
    const seen = new Set<string>();
    return issues.filter((i) => {
      const loc = JSON.stringify(i.loc);
      const key = `${loc}|${i.type}`;
      if (seen.has(key) || (typed.has(loc) && !TYPE_ISSUES.has(i.type))) return false;
      seen.add(key);
      return true;
    });
  }

  /** Schema field order first, then unknown fields in body order; same rule one level down. */
  function order(issues: ValidationIssue[], body: Record<string, unknown>): ValidationIssue[] {
    const rank = (key: string | number | undefined, known: string[], container: unknown): number => {
      if (key === undefined) return -1;
      const i = known.indexOf(String(key));
      if (i >= 0) return i;
      const keys = typeof container === 'object' && container !== null ? Object.keys(container) : [];
      return known.length + keys.indexOf(String(key));
    };
    const keyOf = (i: ValidationIssue): [number, number] => [
      rank(i.loc[1], fieldOrder, body),
      rank(i.loc[2], imageSizeKeys, valueAt(body, [String(i.loc[1])])),
    ];
    return issues
      .map((i, n) => ({ i, n, k: keyOf(i) }))
      .sort((a, b) => a.k[0] - b.k[0] || a.k[1] - b.k[1] || a.n - b.n)
      .map((x) => x.i);
  }

  return (body: unknown): InputValidation => {
    // A JSON string that itself contains JSON, an array or null is not an input object.
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      const msg = 'Input should be a valid dictionary or object to extract fields from';
      return { ok: false, issues: [{ loc: ['body'], msg, type: 'model_attributes_type', input: body }] };
    }
    if (validate(body)) return { ok: true, input: body };
    return { ok: false, issues: mapErrors(validate.errors ?? [], body as Record<string, unknown>) };
  };
}
