/**
 * Reuse of GPU buffers between ops and calls. Sizes are rounded up to classes of
 * 2^k x (1 + j/8) bytes (at most 12.5% waste), keyed with the usage flags; released
 * buffers wait in a free list capped at `maxIdleBytes` (the oldest are destroyed first).
 */

/** Size class of a byte length: the smallest 2^k (1 + j/8) >= n, at least 256 bytes. */
export function sizeClass(n: number): number {
  if (n <= 256) return 256;
  const k = Math.floor(Math.log2(n));
  const base = 2 ** k;
  if (base === n) return n;
  const step = base / 8;
  return base + Math.ceil((n - base) / step) * step;
}

export class BufferPool {
  private readonly free = new Map<string, GPUBuffer[]>();
  private idleBytes = 0;
  private readonly order: Array<{ key: string; buffer: GPUBuffer }> = [];
  /** Buffers handed out and not yet released (for leak checks in tests). */
  live = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly maxIdleBytes: number,
  ) {}

  /** A buffer of at least `bytes` with `usage`; contents are undefined. */
  acquire(bytes: number, usage: GPUBufferUsageFlags, label: string): GPUBuffer {
    const size = sizeClass(bytes);
    const key = `${usage}:${size}`;
    const list = this.free.get(key);
    const b = list?.pop();
    this.live++;
    if (b) {
      this.idleBytes -= size;
      const i = this.order.findIndex((e) => e.buffer === b);
      if (i >= 0) this.order.splice(i, 1);
      b.label = label;
      return b;
    }
    return this.device.createBuffer({ size, usage, label });
  }

  /** Give a buffer back for reuse. */
  release(buffer: GPUBuffer): void {
    this.live--;
    const key = `${buffer.usage}:${buffer.size}`;
    let list = this.free.get(key);
    if (!list) {
      list = [];
      this.free.set(key, list);
    }
    list.push(buffer);
    this.order.push({ key, buffer });
    this.idleBytes += buffer.size;
    while (this.idleBytes > this.maxIdleBytes && this.order.length > 0) {
      const old = this.order.shift()!;
      const l = this.free.get(old.key);
      const i = l ? l.indexOf(old.buffer) : -1;
      if (l && i >= 0) l.splice(i, 1);
      this.idleBytes -= old.buffer.size;
      old.buffer.destroy();
    }
  }

  /** Destroy every idle buffer. */
  clear(): void {
    for (const l of this.free.values()) for (const b of l) b.destroy();
    this.free.clear();
    this.order.length = 0;
    this.idleBytes = 0;
  }
}
