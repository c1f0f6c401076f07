// The SIMD kernels' compiled modules, one per what they hold (engine/backends/wasm-simd.ts): compiled once per
// thread, or taken from another thread that compiled them (the CLI's early second engine hands its modules to
// the first, so that engine skips assembling them and starts on their optimised code). The stand-in module
// below is written by hand, byte by byte, so what runs is visibly the taken module and not one assembled here.
import { describe, expect, it } from 'vitest';
import { adoptSimdModules, compiledSimdModules, createGemm } from '../../engine/backends/wasm-simd.js';

/** (module (import "env" "memory" (memory 0)) (func (export "gemm") (param i32 i32 i32 i32) (f32.store (local.get 2) (f32.const 7)))) */
const STAND_IN = new WebAssembly.Module(new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x08, 0x01, 0x60, 0x04, 0x7f, 0x7f, 0x7f, 0x7f, 0x00, // type: (i32 i32 i32 i32) -> ()
  0x02, 0x0f, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, 0x00, // import env.memory
  0x03, 0x02, 0x01, 0x00, // one function of type 0
  0x07, 0x08, 0x01, 0x04, 0x67, 0x65, 0x6d, 0x6d, 0x00, 0x00, // export "gemm"
  0x0a, 0x0e, 0x01, 0x0c, 0x00, 0x20, 0x02, 0x43, 0x00, 0x00, 0xe0, 0x40, 0x38, 0x02, 0x00, 0x0b, // c[0] = 7
]));

const memory = (): WebAssembly.Memory => new WebAssembly.Memory({ initial: 1 });
const keys = (): string[] => compiledSimdModules().map(([key]) => key);

describe('compiled SIMD modules', () => {
  it('a product compiled once is listed under its shape, fused or not, and the memory it imports', () => {
    const shape = { m: 4, k: 3, n: 8, aRow: 12, aCol: 4, bias: false, relu: false };
    expect(createGemm(memory(), shape, false)).not.toBeNull();
    expect(keys()).toContain('gemm 4 3 8 12 4 false false plain|own memory');
    const count = keys().length;
    expect(createGemm(memory(), shape, false)).not.toBeNull(); // the same shape on another memory: no new module
    expect(keys().length).toBe(count);
    expect(createGemm(memory(), { ...shape, relu: true }, false)).not.toBeNull();
    expect(keys()).toContain('gemm 4 3 8 12 4 false true plain|own memory');
  });

  it('a module taken from another thread is the one that runs: nothing is assembled for its key', () => {
    adoptSimdModules([['gemm 4 5 8 20 4 true false plain|own memory', STAND_IN]]);
    const mem = memory();
    const run = createGemm(mem, { m: 4, k: 5, n: 8, aRow: 20, aCol: 4, bias: true, relu: false }, false)!;
    const c = 64;
    run(0, 16, c, 32);
    expect(new Float32Array(mem.buffer, c, 2)).toEqual(new Float32Array([7, 0])); // the stand-in's mark, not a product
  });

  it('a key this thread has already keeps its own module; what is not a module is ignored', () => {
    const shape = { m: 8, k: 2, n: 4, aRow: 8, aCol: 4, bias: false, relu: false };
    const key = 'gemm 8 2 4 8 4 false false plain|own memory';
    createGemm(memory(), shape, false);
    const own = compiledSimdModules().find(([k]) => k === key)![1];
    adoptSimdModules([[key, STAND_IN], ['gemm 1 1 4 4 4 false false plain|own memory', {} as WebAssembly.Module]]);
    expect(compiledSimdModules().find(([k]) => k === key)![1]).toBe(own);
    expect(keys()).not.toContain('gemm 1 1 4 4 4 false false plain|own memory');
  });
});
