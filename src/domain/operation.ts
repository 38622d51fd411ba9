/**
 * Step 1 of the pipeline: every door (host mode, `queue.` host, `/api/fal/proxy`) turns a request
 * into one of these before anything else happens. Status/result/cancel name fal's request id.
 */
export type Operation =
  | { kind: 'run' }
  | {
      kind: 'submit';
      /** `fal_webhook` query value, still to be authorised against the key's registered prefixes. */
      webhook: string | null;
      /** `fal_max_queue_length` (fal answers 429 when its queue is longer). */
      maxQueueLength: number | null;
    }
  | { kind: 'status'; requestId: string; logs: boolean }
  | { kind: 'stream'; requestId: string; logs: boolean }
  | { kind: 'result'; requestId: string }
  | { kind: 'cancel'; requestId: string };

export type OperationKind = Operation['kind'];

/** fal request ids are UUIDs; anything else is refused before it can reach a URL. */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/;

/** `logs` query as sent by fal clients: JS `0|1`, Python `true|false` (docs/fal-protocol.md §2.3). */
export function parseLogsFlag(value: string | null | undefined): boolean | null {
  if (value === null || value === undefined || value === '' || value === '0' || value === 'false') return false;
  if (value === '1' || value === 'true') return true;
  return null;
}
