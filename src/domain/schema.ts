/**
 * The mirrored schema of `fal-ai/stable-diffusion-v35-medium`, declared once in TypeBox. The same
 * objects drive request validation (validation.ts), the TypeScript types and the OpenAPI document
 * (openapi.ts), so the three can never disagree.
 *
 * Facts (docs/fal-protocol.md §1): field set, defaults and ranges from fal's per-endpoint
 * OpenAPI (Jan 2026) plus `auto_fix` from fal-js `libs/client/src/types/endpoints.ts` (2026-08) and
 * the model's llms.txt, whose descriptions are quoted below. Titles follow pydantic's generated
 * titles; "Guidance scale (CFG)" is fal's own. `ImageSize` and the presets come from the fal toolkit
 * `projects/fal/src/fal/toolkit/image/image.py` (width/height: default 512, gt 0, le 14142).
 */
import { Type, type SchemaOptions, type Static, type TUnsafe } from '@sinclair/typebox';

/** A string enum as `{type:"string", enum:[…]}`, the shape fal's OpenAPI uses (TypeBox's own is anyOf of consts). */
function stringEnum<const T extends readonly string[]>(values: T, options: SchemaOptions = {}): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ ...options, type: 'string', enum: [...values] });
}

/** Preset names in fal's order (fal toolkit `ImageSizePreset`). */
export const IMAGE_SIZE_PRESET_NAMES = [
  'square_hd',
  'square',
  'portrait_4_3',
  'portrait_16_9',
  'landscape_4_3',
  'landscape_16_9',
] as const;
export type ImageSizePreset = (typeof IMAGE_SIZE_PRESET_NAMES)[number];

export const OUTPUT_FORMATS = ['jpeg', 'png'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** fal toolkit `ImageSize`: `le=14142` (≈ 200 MP per image, so the gateway needs its own cap too). */
export const MAX_IMAGE_DIMENSION = 14142;
/** fal toolkit `ImageSize` field default for an omitted width or height. */
export const DEFAULT_IMAGE_DIMENSION = 512;
export const DEFAULT_IMAGE_SIZE: ImageSizePreset = 'landscape_4_3';

export const ImageSizePresetSchema = stringEnum(IMAGE_SIZE_PRESET_NAMES, { title: 'ImageSizePreset' });

const dimension = (which: 'width' | 'height') =>
  Type.Integer({
    title: which === 'width' ? 'Width' : 'Height',
    description: `The ${which} of the generated image.`,
    exclusiveMinimum: 0,
    maximum: MAX_IMAGE_DIMENSION,
    default: DEFAULT_IMAGE_DIMENSION,
  });

/**
 * `ImageSize` with a switchable unknown-field policy: `false` for the documented schema and the
 * `reject` policy, `true` when the gateway forwards unknown fields untouched.
 */
export function createImageSizeSchema(opts: { additionalProperties: boolean }) {
  return Type.Object(
    { width: Type.Optional(dimension('width')), height: Type.Optional(dimension('height')) },
    { title: 'ImageSize', additionalProperties: opts.additionalProperties },
  );
}

/** The model input (fal's OpenAPI title "TextToImageInput"); properties in `x-fal-order-properties` order. */
export function createInputSchema(opts: { additionalProperties: boolean }) {
  return Type.Object(
    {
      prompt: Type.String({ title: 'Prompt', description: 'The prompt to generate an image from.' }),
      negative_prompt: Type.Optional(
        Type.String({
          title: 'Negative Prompt',
          description:
            "The negative prompt to use. Use it to address details that you don't want in the image. This could be colors, objects, scenery and even the small details (e.g. moustache, blurry, low resolution).",
          default: '',
        }),
      ),
      image_size: Type.Optional(
        Type.Union([createImageSizeSchema(opts), ImageSizePresetSchema], {
          title: 'Image Size',
          description: 'The size of the generated image.',
          default: DEFAULT_IMAGE_SIZE,
        }),
      ),
      num_inference_steps: Type.Optional(
        Type.Integer({
          title: 'Num Inference Steps',
          description: 'The number of inference steps to perform.',
          minimum: 1,
          maximum: 50,
          default: 40,
        }),
      ),
      seed: Type.Optional(
        Type.Integer({
          title: 'Seed',
          description:
            'The same seed and the same prompt given to the same version of the model will output the same image every time.',
        }),
      ),
      guidance_scale: Type.Optional(
        Type.Number({
          title: 'Guidance scale (CFG)',
          description:
            'The CFG (Classifier Free Guidance) scale is a measure of how close you want the model to stick to your prompt when looking for a related image to show you.',
          minimum: 0,
          maximum: 20,
          default: 4.5,
        }),
      ),
      sync_mode: Type.Optional(
        Type.Boolean({
          title: 'Sync Mode',
          description:
            "If `True`, the media will be returned as a data URI and the output data won't be available in the request history.",
          default: false,
        }),
      ),
      num_images: Type.Optional(
        Type.Integer({
          title: 'Num Images',
          description: 'The number of images to generate.',
          minimum: 1,
          maximum: 4,
          default: 1,
        }),
      ),
      enable_safety_checker: Type.Optional(
        Type.Boolean({
          title: 'Enable Safety Checker',
          description: 'If set to true, the safety checker will be enabled.',
          default: true,
        }),
      ),
      output_format: Type.Optional(
        stringEnum(OUTPUT_FORMATS, {
          title: 'Output Format',
          description: 'The format of the generated image.',
          default: 'jpeg',
        }),
      ),
      auto_fix: Type.Optional(
        Type.Boolean({
          title: 'Auto Fix',
          description:
            'If true (default), the requested `image_size` is silently rounded to the nearest compatible value for this model. If false, the request returns a 422 error when the requested `image_size` is not directly compatible.',
          default: true,
        }),
      ),
    },
    { title: 'TextToImageInput', additionalProperties: opts.additionalProperties },
  );
}

/** The documented schemas: unknown fields refused, which is the gateway's default policy. */
export const ImageSizeSchema = createImageSizeSchema({ additionalProperties: false });
export const Sd35InputSchema = createInputSchema({ additionalProperties: false });

export type ImageSize = Static<typeof ImageSizeSchema>;
export type Sd35Input = Static<typeof Sd35InputSchema>;

/**
 * fal-js 2026-08 generic `Image` / fal toolkit `Image(File)`: only `url` is required, and unknown
 * fields pass (docs/fal-protocol.md §1.4). Documentation only: output bodies are streamed, never parsed.
 */
export const ImageSchema = Type.Object(
  {
    url: Type.String({ description: 'The URL where the file can be downloaded from (a data URI with `sync_mode`).' }),
    width: Type.Optional(Type.Integer({ description: 'The width of the image in pixels.' })),
    height: Type.Optional(Type.Integer({ description: 'The height of the image in pixels.' })),
    content_type: Type.Optional(Type.String({ description: 'The mime type of the file.', examples: ['image/jpeg'] })),
    file_name: Type.Optional(Type.String({ description: 'The name of the file.' })),
    file_size: Type.Optional(Type.Integer({ description: 'The size of the file in bytes.' })),
  },
  { title: 'Image', additionalProperties: true },
);

/** Model output (docs/fal-protocol.md §1.4): all five fields required. */
export const Sd35OutputSchema = Type.Object(
  {
    images: Type.Array(ImageSchema, { description: 'The generated image files info.' }),
    timings: Type.Object({}, { additionalProperties: Type.Number(), description: 'Timings in seconds, e.g. `inference`.' }),
    seed: Type.Integer({
      description:
        'Seed of the generated Image. It will be the same value of the one passed in the input or the randomly generated that was used in case none was passed. May exceed 2^53.',
    }),
    has_nsfw_concepts: Type.Array(Type.Boolean(), { description: 'Whether the generated images contain NSFW concepts.' }),
    prompt: Type.String({ description: 'The prompt used for generating the image.' }),
  },
  { title: 'TextToImageOutput', additionalProperties: true },
);
export type Sd35Output = Static<typeof Sd35OutputSchema>;

/** Queue log entry (fal-js `libs/client/src/types/common.ts`). */
export const QueueLogSchema = Type.Object(
  {
    message: Type.String(),
    timestamp: Type.String({ description: 'ISO 8601' }),
    level: Type.Optional(stringEnum(['STDERR', 'STDOUT', 'ERROR', 'INFO', 'WARN', 'DEBUG'] as const)),
    source: Type.Optional(Type.String()),
  },
  { title: 'QueueLog', additionalProperties: true },
);

export const QUEUE_STATUSES = ['IN_QUEUE', 'IN_PROGRESS', 'COMPLETED'] as const;

/**
 * Queue status (docs/fal-protocol.md §2.3). No FAILED state exists: failure is COMPLETED plus `error` and
 * `error_type`. Python's `fal_client` requires `queue_position` for IN_QUEUE and the key `logs`
 * for IN_PROGRESS/COMPLETED.
 */
export const QueueStatusSchema = Type.Object(
  {
    status: stringEnum(QUEUE_STATUSES),
    request_id: Type.String(),
    response_url: Type.Optional(Type.String({ format: 'uri' })),
    status_url: Type.Optional(Type.String({ format: 'uri' })),
    cancel_url: Type.Optional(Type.String({ format: 'uri' })),
    gateway_request_id: Type.Optional(Type.String()),
    queue_position: Type.Optional(Type.Integer({ minimum: 0, description: 'Requests ahead (IN_QUEUE only).' })),
    logs: Type.Optional(Type.Union([Type.Array(QueueLogSchema), Type.Null()])),
    metrics: Type.Optional(Type.Object({}, { additionalProperties: true, examples: [{ inference_time: 3.42 }] })),
    error: Type.Optional(Type.String({ description: 'Human-readable failure (COMPLETED only).' })),
    error_type: Type.Optional(Type.String({ description: 'Machine-readable failure type (COMPLETED only).' })),
  },
  { title: 'QueueStatus', additionalProperties: true },
);

/** Cancel answers per fal's queue doc: 202 / 400 / 404 with these statuses (docs/fal-protocol.md §2.3). */
export const CancelStatusSchema = Type.Object(
  { status: stringEnum(['CANCELLATION_REQUESTED', 'ALREADY_COMPLETED', 'NOT_FOUND'] as const) },
  { title: 'CancelStatus', additionalProperties: true },
);

/** One pydantic-style issue, docs/fal-protocol.md §2.7 (a). `url` is sent by fal, never by the gateway. */
export const ValidationIssueSchema = Type.Object(
  {
    loc: Type.Array(Type.Union([Type.String(), Type.Integer()])),
    msg: Type.String(),
    type: Type.String(),
    ctx: Type.Optional(Type.Object({}, { additionalProperties: true })),
    input: Type.Optional(Type.Unknown()),
    url: Type.Optional(Type.String()),
  },
  { title: 'ValidationIssue' },
);

/** 422 body, fal's and the gateway's: `{"detail":[issue, …]}` (docs/fal-protocol.md §2.7 (a)). */
export const FalValidationErrorSchema = Type.Object(
  { detail: Type.Array(ValidationIssueSchema) },
  { title: 'FalValidationError' },
);

/** Every other gateway-made error (docs/design.md §1); fal's flat request errors share `detail`/`error_type`. */
export const GatewayErrorSchema = Type.Object(
  {
    detail: Type.String({ description: 'Human-readable text.' }),
    error_type: Type.String({ description: 'Stable machine code, e.g. `budget_exceeded`.' }),
    request_id: Type.String({ description: 'The gateway request id (also in `x-gateway-request-id`).' }),
  },
  { title: 'GatewayError' },
);
