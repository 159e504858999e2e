/**
 * WebAssembly (SIMD) kernels for the CPU backend, written as WAT text in the op folders
 * and assembled on first use with `wabt` (the WebAssembly project's own toolkit), once
 * per thread. f32x4 arithmetic rounds every multiply and add to float32, exactly the
 * formula the WGSL shaders use, at four pixels per instruction.
 */
import { ComputeError } from '../errors.ts';

type Wabt = Awaited<ReturnType<typeof import('wabt')>>;

let wabt: Promise<Wabt> | null = null;
const modules = new Map<string, Promise<WebAssembly.Module>>();

/** The compiled module for WAT `source` (cached by `name`). */
export function compileWat(name: string, source: string): Promise<WebAssembly.Module> {
  let m = modules.get(name);
  if (!m) {
    wabt ??= import('wabt').then((w) => w.default());
    m = wabt.then((w) => {
      const parsed = w.parseWat(`${name}.wat`, source, { simd: true });
      try {
        parsed.validate();
        const { buffer } = parsed.toBinary({});
        return WebAssembly.compile(buffer);
      } catch (e) {
        throw new ComputeError(
          'WASM_BUILD',
          `WAT kernel ${name} does not assemble: ${(e as Error).message}`,
        );
      } finally {
        parsed.destroy();
      }
    });
    modules.set(name, m);
  }
  return m;
}

/**
 * A kernel instance with its own linear memory, grown on demand. `reserve(bytes)` makes
 * sure the memory holds at least `bytes`; views must be re-made after it.
 */
export class WasmScratch {
  readonly instance: WebAssembly.Instance;
  readonly memory: WebAssembly.Memory;

  constructor(module: WebAssembly.Module) {
    this.memory = new WebAssembly.Memory({ initial: 1 });
    this.instance = new WebAssembly.Instance(module, { env: { mem: this.memory } });
  }

  reserve(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes > have) this.memory.grow(Math.ceil((bytes - have) / 65536));
  }

  /** An exported function by name. */
  fn<F extends (...args: number[]) => unknown>(name: string): F {
    const f = this.instance.exports[name];
    if (typeof f !== 'function')
      throw new ComputeError('WASM_EXPORT', `kernel has no export ${name}`);
    return f as F;
  }
}
