/** What the test page reports on `window.pageResult` once its generation attempt is over. */

/** Where the attempt stopped: fetching the token from the page's backend, or calling the gateway. */
export type PageStage = 'token' | 'generate';

export interface PageImage {
  url: string;
  /** As fal's output JSON says. */
  width: number;
  height: number;
  /** As the browser decoded the image file (`naturalWidth` / `naturalHeight`). */
  decodedWidth: number;
  decodedHeight: number;
}

export type PageResult =
  | { ok: true; requestId: string; images: PageImage[] }
  | {
      ok: false;
      stage: PageStage;
      /** `ApiError` for an HTTP answer the page could read, `TypeError` when fetch itself failed (CORS, network). */
      name: string;
      message: string;
      /** The HTTP status, when the browser let the page see the answer. */
      status: number | null;
      body: unknown;
    };
