/**
 * Generated files served at `${runUrl}/files/<request_id>/<index>.<ext>`, playing fal's public CDN
 * (v3.fal.media URLs need no auth, docs/fal-protocol.md §1.5). Held in memory, bounded in count and age so a
 * long benchmark cannot grow the sim without limit; buffers are often shared with the image cache.
 */
export interface StoredFile {
  bytes: Buffer;
  contentType: string;
}

interface Entry extends StoredFile {
  expiresAt: number;
}

export class FileStore {
  private readonly files = new Map<string, Entry>();

  constructor(
    private readonly maxFiles = 4096,
    private readonly ttlMs = 60 * 60 * 1000,
    private readonly now: () => number = Date.now,
  ) {}

  /** `path` is the part after `/files/`, e.g. `<request_id>/0.jpeg`. */
  put(path: string, file: StoredFile): void {
    this.files.delete(path);
    this.files.set(path, { ...file, expiresAt: this.now() + this.ttlMs });
    for (const oldest of this.files.keys()) {
      if (this.files.size <= this.maxFiles) break;
      this.files.delete(oldest);
    }
  }

  get(path: string): StoredFile | undefined {
    const entry = this.files.get(path);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.files.delete(path);
      return undefined;
    }
    return { bytes: entry.bytes, contentType: entry.contentType };
  }

  clear(): void {
    this.files.clear();
  }
}
