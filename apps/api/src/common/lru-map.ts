/**
 * Entries used last, within a budget: each weighs `weigh(value)` (1 by default: the budget is a
 * count), newest use last (a Map keeps insertion order), the least recently used dropped first.
 * An entry heavier than the whole budget is not kept.
 */
export class LruMap<V> {
  private readonly entries = new Map<string, V>();
  private total = 0;

  constructor(
    private readonly budget: number,
    private readonly weigh: (value: V) => number = () => 1,
  ) {}

  get(key: string): V | undefined {
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  /** Keeps `value` under `key` as the newest use, in place of what the key held. */
  set(key: string, value: V): void {
    const old = this.entries.get(key);
    if (old !== undefined) {
      this.entries.delete(key);
      this.total -= this.weigh(old);
    }
    this.entries.set(key, value);
    this.total += this.weigh(value);
    for (const [oldest, v] of this.entries) {
      if (this.total <= this.budget) break;
      this.entries.delete(oldest);
      this.total -= this.weigh(v);
    }
  }
}
