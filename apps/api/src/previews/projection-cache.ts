import type { ViewProjection } from '@bdv-cluster/bdv/preview';

/**
 * Projections already read, newest use last (a Map keeps insertion order), bounded by their
 * bytes. A key names the view's written content (its checksums), so an entry is never stale:
 * a view written again gets a new key.
 */
export class ProjectionCache {
  private readonly entries = new Map<string, ViewProjection>();
  private bytes = 0;

  constructor(private readonly maxBytes = 64 * 1024 * 1024) {}

  get(key: string): ViewProjection | undefined {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  set(key: string, projection: ViewProjection): void {
    if (this.entries.has(key)) return;
    this.entries.set(key, projection);
    this.bytes += projection.pixels.byteLength;
    for (const [oldest, p] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= p.pixels.byteLength;
    }
  }
}
