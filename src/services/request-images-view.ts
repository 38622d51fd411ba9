/** What GET /admin/requests/:id/images answers (services/request-images.ts); the console reads the same type. */
export interface RequestImages {
  ledger_id: string;
  fal_request_id: string | null;
  /** `ok`; or why there is nothing to show: `sync_run`, `no_fal_request`, `not_ready`, `expired`, `inline`, `unavailable`. */
  status: 'ok' | 'sync_run' | 'no_fal_request' | 'not_ready' | 'expired' | 'inline' | 'unavailable';
  images: { url: string; width: number | null; height: number | null; content_type: string | null }[];
}
