/**
 * The model's output for one request (docs/fal-protocol.md §1.4), written as JSON text by hand so the seed
 * goes out as raw digits, and the billable units fal would charge for it.
 */
import { CONTENT_TYPES } from './images.js';
import type { SimInput } from './input-check.js';
import type { SimCore } from './sim-state.js';

/**
 * Σ over images of ceil(width·height / 10⁶): whole megapixels per image, rounded up (fal's wording
 * for per-MP models; docs/fal-protocol.md §4). square_hd 1024² = 1.05 MP → 2 units.
 */
export function billableUnits(input: Pick<SimInput, 'width' | 'height' | 'numImages'>): number {
  return Math.ceil((input.width * input.height) / 1e6) * input.numImages;
}

interface OutputImage {
  url: string;
  width: number;
  height: number;
  content_type: string;
  file_name: string;
  file_size: number;
}

/**
 * Renders the images and returns the output JSON text. With sync_mode the images are data URIs
 * and nothing is stored (docs/fal-protocol.md §1.5); otherwise they are served from `${runUrl}/files/...`.
 */
export function generateOutput(core: SimCore, requestId: string, input: SimInput, seed: string, inferenceSeconds: number): string {
  const contentType = CONTENT_TYPES[input.format];
  const images: OutputImage[] = [];
  for (let index = 0; index < input.numImages; index++) {
    const bytes = core.images.image(seed, index, input.width, input.height, input.format);
    const fileName = `${index}.${input.format}`;
    let url: string;
    if (input.syncMode) {
      url = `data:${contentType};base64,${bytes.toString('base64')}`;
    } else {
      core.files.put(`${requestId}/${fileName}`, { bytes, contentType });
      url = `${core.urls.run}/files/${requestId}/${fileName}`;
    }
    images.push({ url, width: input.width, height: input.height, content_type: contentType, file_name: fileName, file_size: bytes.length });
  }
  const head = JSON.stringify({ images, timings: { inference: inferenceSeconds } });
  const nsfw = JSON.stringify(images.map(() => false));
  return `${head.slice(0, -1)},"seed":${seed},"has_nsfw_concepts":${nsfw},"prompt":${JSON.stringify(input.prompt)}}`;
}
