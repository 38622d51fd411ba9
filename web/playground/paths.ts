/** The gateway's queue paths in host mode (docs/design.md §1.1), as fal's clients address them. */
import { MODEL_PATH, REQUESTS_PREFIX } from '../../src/domain/model.js';

export const SUBMIT_PATH = `/queue${MODEL_PATH}`;
export const requestPath = (id: string, tail = '') => `/queue${REQUESTS_PREFIX}/${encodeURIComponent(id)}${tail}`;
