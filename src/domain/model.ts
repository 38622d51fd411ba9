/**
 * The one fal endpoint this gateway mirrors, and the paths fal serves it on.
 * Source: docs/fal-protocol.md §1.1 and §2.3 (status/result/cancel use owner/app only).
 */
export const MODEL_ID = 'fal-ai/stable-diffusion-v35-medium';

/** Path of the sync run and of the queue submit (the model has no sub-path). */
export const MODEL_PATH = `/${MODEL_ID}`;

/** Prefix of the per-request queue paths: `${REQUESTS_PREFIX}/{id}[/status[/stream]|/response|/cancel]`. */
export const REQUESTS_PREFIX = `${MODEL_PATH}/requests`;
