/**
 * The `.qg` file: a quantum graph stored so that any one quantum can be read without loading
 * the rest.
 *
 * Layout (all integers little-endian):
 *
 * ```
 * offset 0   8 bytes  magic "GDRPQG01"
 *        8   u64      header block offset     16  u64  header block length
 *        24  u64      nodes block offset      32  u64  nodes block length
 *        40  u64      index offset            48  u64  number of index entries
 *        56  ...      blocks
 * ```
 *
 * - header block: gzip of the JSON {@link GraphHeader} (pipeline, configs, dataset types,
 *   init refs, counts);
 * - nodes block: gzip of the JSON node list `[id, label index, data ID, upstream indices][]`
 *   plus the label table (what a scheduler needs, without refs);
 * - one block per quantum: gzip of the JSON {@link Quantum};
 * - index: entries of 32 bytes, sorted by quantum id bytes: 16 bytes UUID, u64 offset,
 *   u64 length. A lookup reads the fixed prefix, binary-searches the index with positional
 *   reads (about log2(N) reads of 32 bytes) and inflates one block.
 *
 * Files are written to a temporary name and renamed, so a reader never sees half a graph.
 */

import { randomBytes } from 'node:crypto';
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { GraphFileError } from './errors.ts';
import { type GraphHeader, type GraphNode, type Quantum, QuantumGraph } from './quantum-graph.ts';

const MAGIC = 'GDRPQG01';
const PREFIX = 56;
const ENTRY = 32;

function uuidBytes(id: string): Buffer {
  return Buffer.from(id.replace(/-/g, ''), 'hex');
}

function block(value: unknown): Buffer {
  return gzipSync(Buffer.from(JSON.stringify(value), 'utf8'), { level: 1 });
}

/** Writes `graph` to `path` (atomically: temporary file + rename). Returns the file size in bytes. */
export async function saveQuantumGraph(graph: QuantumGraph, path: string): Promise<number> {
  const tmp = `${path}.tmp-${randomBytes(4).toString('hex')}`;
  const fh = await open(tmp, 'w');
  try {
    let pos = PREFIX;
    const chunks: Buffer[] = [];
    const push = (b: Buffer): [number, number] => {
      const at = pos;
      chunks.push(b);
      pos += b.length;
      return [at, b.length];
    };
    const header = push(block(graph.header));
    const labels = graph.header.pipeline.tasks.map((t) => t.label);
    const labelIndex = new Map(labels.map((l, i) => [l, i]));
    const ids = [...graph.quanta.keys()];
    const idIndex = new Map(ids.map((id, i) => [id, i]));
    const nodes = push(
      block({
        labels,
        nodes: [...graph.quanta.values()].map((q) => [
          q.id,
          labelIndex.get(q.label),
          q.dataId,
          q.upstream.map((u) => idIndex.get(u)),
        ]),
      }),
    );
    const entries: { key: Buffer; at: number; len: number }[] = [];
    for (const q of graph.quanta.values()) {
      const [at, len] = push(block(q));
      entries.push({ key: uuidBytes(q.id), at, len });
    }
    entries.sort((a, b) => Buffer.compare(a.key, b.key));
    const index = Buffer.alloc(entries.length * ENTRY);
    entries.forEach((e, i) => {
      e.key.copy(index, i * ENTRY);
      index.writeBigUInt64LE(BigInt(e.at), i * ENTRY + 16);
      index.writeBigUInt64LE(BigInt(e.len), i * ENTRY + 24);
    });
    const indexAt = pos;
    chunks.push(index);
    pos += index.length;
    const prefix = Buffer.alloc(PREFIX);
    prefix.write(MAGIC, 0, 'latin1');
    const nums = [header[0], header[1], nodes[0], nodes[1], indexAt, entries.length];
    nums.forEach((n, i) => {
      prefix.writeBigUInt64LE(BigInt(n), 8 + i * 8);
    });
    await fh.writev([prefix, ...chunks]);
    await fh.sync();
    await fh.close();
    await rename(tmp, path);
    return pos;
  } catch (e) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Random access to a saved graph. Close it when done. */
export class QuantumGraphReader {
  /** The header (read on open). */
  readonly header: GraphHeader;
  /** Number of quanta. */
  readonly size: number;
  private nodesCache: GraphNode[] | null = null;

  private constructor(
    /** The file. */
    readonly path: string,
    private readonly fh: FileHandle,
    header: GraphHeader,
    private readonly nodesAt: readonly [number, number],
    private readonly indexAt: number,
    count: number,
  ) {
    this.header = header;
    this.size = count;
  }

  /** Opens a graph file and reads its header. @throws GraphFileError */
  static async open(path: string): Promise<QuantumGraphReader> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (e) {
      throw new GraphFileError(path, `cannot open (${(e as Error).message})`, { cause: e });
    }
    try {
      const prefix = Buffer.alloc(PREFIX);
      const { bytesRead } = await fh.read(prefix, 0, PREFIX, 0);
      if (bytesRead < PREFIX || prefix.toString('latin1', 0, 8) !== MAGIC) {
        throw new GraphFileError(path, 'not a gpu-drp quantum graph (bad magic)');
      }
      const n = (i: number) => Number(prefix.readBigUInt64LE(8 + i * 8));
      const header = JSON.parse(
        (await readBlock(fh, path, n(0), n(1))).toString('utf8'),
      ) as GraphHeader;
      if (header.format !== 'gpu-drp-qgraph' || header.version !== 1) {
        throw new GraphFileError(path, `unsupported format ${header.format} v${header.version}`);
      }
      return new QuantumGraphReader(path, fh, header, [n(2), n(3)], n(4), n(5));
    } catch (e) {
      await fh.close();
      if (e instanceof GraphFileError) throw e;
      throw new GraphFileError(path, `corrupt (${(e as Error).message})`, { cause: e });
    }
  }

  /** Node summaries (ids, labels, data IDs, upstream ids) in execution order. */
  async nodes(): Promise<GraphNode[]> {
    if (this.nodesCache) return this.nodesCache;
    const raw = JSON.parse(
      (await readBlock(this.fh, this.path, this.nodesAt[0], this.nodesAt[1])).toString('utf8'),
    ) as { labels: string[]; nodes: [string, number, GraphNode['dataId'], number[]][] };
    const ids = raw.nodes.map((n) => n[0]);
    this.nodesCache = raw.nodes.map(([id, li, dataId, up]) => ({
      id,
      label: raw.labels[li]!,
      dataId,
      upstream: up.map((i) => ids[i]!),
    }));
    return this.nodesCache;
  }

  /** Reads one quantum (one index search, one block). @throws GraphFileError for an unknown id. */
  async readQuantum(id: string): Promise<Quantum> {
    const key = uuidBytes(id);
    if (key.length !== 16) throw new GraphFileError(this.path, `'${id}' is not a quantum UUID`);
    let lo = 0;
    let hi = this.size - 1;
    const entry = Buffer.alloc(ENTRY);
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      await this.fh.read(entry, 0, ENTRY, this.indexAt + mid * ENTRY);
      const c = Buffer.compare(entry.subarray(0, 16), key);
      if (c === 0) {
        const at = Number(entry.readBigUInt64LE(16));
        const len = Number(entry.readBigUInt64LE(24));
        return JSON.parse((await readBlock(this.fh, this.path, at, len)).toString('utf8'));
      }
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    throw new GraphFileError(this.path, `no quantum ${id} in this graph`);
  }

  /** Reads every quantum (the whole graph). */
  async readAll(): Promise<QuantumGraph> {
    const nodes = await this.nodes();
    const quanta: Quantum[] = [];
    for (const n of nodes) quanta.push(await this.readQuantum(n.id));
    return new QuantumGraph(this.header, quanta);
  }

  /** Closes the file. */
  async close(): Promise<void> {
    await this.fh.close();
  }
}

async function readBlock(fh: FileHandle, path: string, at: number, len: number): Promise<Buffer> {
  const buf = Buffer.alloc(len);
  const { bytesRead } = await fh.read(buf, 0, len, at);
  if (bytesRead !== len) throw new GraphFileError(path, `truncated block at byte ${at}`);
  return gunzipSync(buf);
}

/** Reads a whole graph file. */
export async function loadQuantumGraph(path: string): Promise<QuantumGraph> {
  const r = await QuantumGraphReader.open(path);
  try {
    return await r.readAll();
  } finally {
    await r.close();
  }
}
