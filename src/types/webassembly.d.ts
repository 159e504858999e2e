/**
 * The part of the WebAssembly JS API that gpu-drp uses. Node has it at run time;
 * TypeScript declares it only in the DOM libraries, which this project does not load.
 */
declare namespace WebAssembly {
  class Module {}
  class Memory {
    constructor(descriptor: { initial: number; maximum?: number; shared?: boolean });
    readonly buffer: ArrayBuffer;
    grow(delta: number): number;
  }
  class Instance {
    constructor(module: Module, imports?: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, unknown>;
  }
  function compile(bytes: BufferSource | Uint8Array): Promise<Module>;
}
