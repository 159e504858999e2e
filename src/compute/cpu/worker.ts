/**
 * Worker-thread entry of the CPU backend's pool. A task names an ES module and one of
 * its exported functions; the module is imported once per worker and cached. Pixel
 * planes arrive as typed arrays over SharedArrayBuffer, so kernels write results in
 * place and nothing but small parameters is copied.
 */
import { parentPort } from 'node:worker_threads';

interface TaskMessage {
  readonly id: number;
  readonly module: string;
  readonly fn: string;
  readonly args: unknown;
}

const modules = new Map<string, Promise<Record<string, unknown>>>();

function load(url: string): Promise<Record<string, unknown>> {
  let m = modules.get(url);
  if (!m) {
    m = import(url) as Promise<Record<string, unknown>>;
    modules.set(url, m);
  }
  return m;
}

if (!parentPort) throw new Error('worker.ts must run in a worker thread');
const port = parentPort;

port.on('message', async (msg: TaskMessage) => {
  try {
    const mod = await load(msg.module);
    const f = mod[msg.fn];
    if (typeof f !== 'function')
      throw new Error(`${msg.module} has no exported function ${msg.fn}`);
    const result = await (f as (a: unknown) => unknown)(msg.args);
    port.postMessage({ id: msg.id, ok: true, result });
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    port.postMessage({
      id: msg.id,
      ok: false,
      error: { name: err.name, message: err.message, stack: err.stack },
    });
  }
});
