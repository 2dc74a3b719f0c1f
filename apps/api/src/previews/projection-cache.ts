import type { ViewProjection } from '@bdv-cluster/bdv/preview';
import { LruMap } from '../common/lru-map.js';

/**
 * Projections already read, bounded by their bytes. A key names the view's written content (its
 * checksums), so an entry is never stale: a view written again gets a new key.
 */
export class ProjectionCache extends LruMap<ViewProjection> {
  constructor(maxBytes = 64 * 1024 * 1024) {
    super(maxBytes, (p) => p.pixels.byteLength);
  }
}
