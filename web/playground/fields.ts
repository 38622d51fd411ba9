/**
 * The playground's form, read from the mirrored input schema (src/domain/schema.ts) the gateway
 * validates with: titles, help text, defaults and ranges come from the TypeBox objects themselves,
 * and `WIDGETS` names every field of `Sd35Input`, so a field renamed or added on the server fails
 * the page's typecheck until the form knows it.
 */
import { IMAGE_SIZE_PRESETS } from '../../src/domain/megapixels.js';
import {
  DEFAULT_IMAGE_DIMENSION,
  IMAGE_SIZE_PRESET_NAMES,
  MAX_IMAGE_DIMENSION,
  Sd35InputSchema,
  type ImageSizePreset,
  type Sd35Input,
} from '../../src/domain/schema.js';

export type Field = keyof Sd35Input;

/** How each field is edited. `off`: shown, but fixed at its default (see sync_mode below). */
export type Widget = 'text' | 'longtext' | 'number' | 'checkbox' | 'select' | 'image_size' | 'off';

const WIDGETS: { [K in Field]-?: Widget } = {
  prompt: 'longtext',
  negative_prompt: 'longtext',
  image_size: 'image_size',
  num_inference_steps: 'number',
  seed: 'number',
  guidance_scale: 'number',
  // The playground shows images from fal's URLs; sync_mode would return multi-megabyte data URIs
  // that fal keeps nowhere, so it stays off here (use the API for it).
  sync_mode: 'off',
  num_images: 'number',
  enable_safety_checker: 'checkbox',
  output_format: 'select',
  auto_fix: 'checkbox',
};

/** What the schema says about one field. */
export interface FieldInfo {
  name: Field;
  widget: Widget;
  title: string;
  help: string;
  required: boolean;
  integer: boolean;
  defaultValue: string | number | boolean | undefined;
  /** For an integer with `exclusiveMinimum` (none here yet), the smallest allowed value. */
  minimum: number | undefined;
  maximum: number | undefined;
  options: readonly string[];
}

interface JsonSchemaish {
  title?: string;
  description?: string;
  type?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  enum?: unknown[];
}

const required = new Set<string>(Sd35InputSchema.required ?? []);
const properties = Sd35InputSchema.properties as unknown as Record<Field, JsonSchemaish>;

function scalarDefault(v: unknown): string | number | boolean | undefined {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : undefined;
}

function info(name: Field): FieldInfo {
  const s = properties[name];
  const integer = s.type === 'integer';
  const min = s.minimum ?? (s.exclusiveMinimum !== undefined && integer ? s.exclusiveMinimum + 1 : undefined);
  return {
    name,
    widget: WIDGETS[name],
    title: s.title ?? name,
    help: s.description ?? '',
    required: required.has(name),
    integer,
    defaultValue: scalarDefault(s.default),
    minimum: min,
    maximum: s.maximum,
    options: Array.isArray(s.enum) ? s.enum.filter((v): v is string => typeof v === 'string') : [],
  };
}

/** Every field, in the schema's (fal's `x-fal-order-properties`) order. */
export const FIELDS: readonly FieldInfo[] = (Object.keys(properties) as Field[]).map(info);

/** The custom width/height inputs, from the schema's `ImageSize` (fal toolkit bounds). */
export const DIMENSION = { minimum: 1, maximum: MAX_IMAGE_DIMENSION, defaultValue: DEFAULT_IMAGE_DIMENSION } as const;

export const PRESETS: readonly { name: ImageSizePreset; width: number; height: number }[] = IMAGE_SIZE_PRESET_NAMES.map((name) => ({
  name,
  ...IMAGE_SIZE_PRESETS[name],
}));

/** The form's state: every field as the text or flag its control holds. */
export type FormValues = { [K in Field]: string } & { width: string; height: string };

export function initialValues(): FormValues {
  const values = { width: String(DEFAULT_IMAGE_DIMENSION), height: String(DEFAULT_IMAGE_DIMENSION) } as FormValues;
  for (const f of FIELDS) values[f.name] = f.defaultValue === undefined ? '' : String(f.defaultValue);
  return values;
}

/** A number field's text → a number, or undefined when empty (the field is then left out). */
function numberOf(text: string): number | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * The request body: the prompt and the image size always (the size is what is paid for), every
 * other field only when it differs from the schema's default, so the body and the snippets show
 * exactly what was chosen. Values are sent as typed: the gateway validates them (422 in fal's shape).
 */
export function buildInput(values: FormValues): Sd35Input {
  const body: Record<string, unknown> = {};
  for (const f of FIELDS) {
    const text = values[f.name];
    let value: unknown;
    switch (f.widget) {
      case 'off':
        continue;
      case 'image_size':
        value = text === 'custom' ? { width: numberOf(values.width), height: numberOf(values.height) } : text;
        break;
      case 'number':
        value = numberOf(text);
        break;
      case 'checkbox':
        value = text === 'true';
        break;
      default:
        value = text;
    }
    if (value === undefined) continue;
    const always = f.required || f.widget === 'image_size';
    if (!always && value === f.defaultValue) continue;
    body[f.name] = value;
  }
  return body as unknown as Sd35Input;
}
