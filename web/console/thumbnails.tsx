/**
 * A queue request's images, small, in its Requests row: GET /admin/requests/:id/images reads the
 * http(s) URLs from fal's stored result (never a data: URI; a sync run has none). Only the first
 * rows load theirs on their own, so a long page does not ask fal once per row; the others offer
 * a button.
 */
import { useEffect, useState } from 'preact/hooks';
import type { RequestImages } from '../../src/services/request-images-view.js';
import { api } from './api.js';

/** Rows that load their thumbnails without being asked. */
export const AUTO_THUMBNAIL_ROWS = 24;

export function Thumbnails(props: { ledgerId: string; auto: boolean }) {
  const [wanted, setWanted] = useState(props.auto);
  const [images, setImages] = useState<RequestImages | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    if (!wanted) return;
    let live = true;
    api<RequestImages>('GET', `/admin/requests/${encodeURIComponent(props.ledgerId)}/images`).then(
      (v) => live && setImages(v),
      () => live && setFailed(true),
    );
    return () => {
      live = false;
    };
  }, [wanted, props.ledgerId]);

  if (!wanted) {
    return (
      <button type="button" class="small" onClick={() => setWanted(true)}>
        Show images
      </button>
    );
  }
  if (failed) return <span class="muted small">unavailable</span>;
  if (images === null) return <span class="muted small">…</span>;
  if (images.images.length === 0) return <span class="muted small">{images.status === 'ok' ? 'none' : images.status.replace('_', ' ')}</span>;
  return (
    <span class="thumbs">
      {images.images.map((img, i) => (
        <a key={img.url} href={img.url} target="_blank" rel="noopener noreferrer" title={`Image ${i + 1}${img.width && img.height ? `, ${img.width}×${img.height}` : ''}`}>
          <img src={img.url} alt={`Image ${i + 1} of this request`} width={48} height={48} loading="lazy" decoding="async" referrerpolicy="no-referrer" />
        </a>
      ))}
    </span>
  );
}
