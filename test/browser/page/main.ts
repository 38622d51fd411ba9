/**
 * The page script of the real-browser test (bundled with esbuild at test time, never committed).
 * It does what a frontend does: fetch a short-lived token from its own backend (`/token?kind=…`),
 * then generate with the real `@fal-ai/client` through the gateway's `proxyUrl`, and report the
 * outcome on `window.pageResult` (see result.ts) and as an `<img>` on the page.
 *
 * The gateway's origin comes from `<body data-gateway>`; the token kind from `?token=` (default `page`).
 *
 * tsconfig has no DOM lib (the project is Node code), so the few browser objects used here are typed
 * by hand below.
 */
import { ApiError, createFalClient } from '@fal-ai/client';
import type { PageImage, PageResult, PageStage } from './result.js';

interface ImageElement {
  id: string;
  alt: string;
  src: string;
  naturalWidth: number;
  naturalHeight: number;
  decode(): Promise<void>;
}
interface PageWindow {
  location: { search: string };
  document: {
    body: { dataset: Record<string, string | undefined>; append(...nodes: (ImageElement | string)[]): void };
    createElement(tag: 'img'): ImageElement;
    title: string;
  };
  pageResult?: PageResult;
}

const win = globalThis as unknown as PageWindow;
const ENDPOINT = 'fal-ai/stable-diffusion-v35-medium';
const PROMPT = 'a red fox in fresh snow, seen from a browser';

async function getToken(kind: string): Promise<string> {
  const res = await fetch(`/token?kind=${encodeURIComponent(kind)}`);
  if (!res.ok) throw new Error(`backend /token answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

async function show(url: string): Promise<ImageElement> {
  const img = win.document.createElement('img');
  img.id = 'result';
  img.alt = PROMPT;
  img.src = url;
  await img.decode();
  win.document.body.append(img);
  return img;
}

function failure(stage: PageStage, err: unknown): PageResult {
  if (err instanceof ApiError) return { ok: false, stage, name: 'ApiError', message: err.message, status: err.status, body: err.body as unknown };
  const e = err instanceof Error ? err : new Error(String(err));
  return { ok: false, stage, name: e.name, message: e.message, status: null, body: null };
}

async function run(): Promise<PageResult> {
  const gateway = win.document.body.dataset.gateway ?? '';
  const kind = new URLSearchParams(win.location.search).get('token') ?? 'page';
  let token: string;
  try {
    token = await getToken(kind);
  } catch (err) {
    return failure('token', err);
  }
  // `credentials` may be a string or a *synchronous* resolver (CredentialsResolver = () => string |
  // undefined; the client interpolates its return value into `Authorization: Key …`), so the token is
  // fetched first. It is a short-lived, capped token, so the client's "credentials exposed in the
  // browser" warning does not apply.
  const fal = createFalClient({ credentials: () => token, proxyUrl: `${gateway}/api/fal/proxy`, suppressLocalCredentialsWarning: true });
  try {
    const result = await fal.subscribe(ENDPOINT, { input: { prompt: PROMPT, image_size: 'square' }, pollInterval: 100 });
    const images: PageImage[] = [];
    for (const image of result.data.images) {
      const img = await show(image.url);
      images.push({ url: image.url, width: image.width ?? 0, height: image.height ?? 0, decodedWidth: img.naturalWidth, decodedHeight: img.naturalHeight });
    }
    return { ok: true, requestId: result.requestId, images };
  } catch (err) {
    return failure('generate', err);
  }
}

run().then(
  (result) => {
    win.document.title = result.ok ? 'generated' : `refused (${result.stage})`;
    win.pageResult = result;
  },
  (err: unknown) => {
    win.pageResult = failure('generate', err);
  },
);
