// A few loops in WebAssembly SIMD that run directly on tfjs-backend-wasm's heap.
//
// The wasm training kernels hand their matrix products to XNNPACK, but the data
// shuffling around them (col2im, transposes, the max-pool gradient, tanh's fix-ups)
// was plain JavaScript, where V8 bounds-checks every access and cannot vectorise or
// avoid branch mispredictions. These functions do the same work 3–10× faster. The
// module is assembled here from a handful of opcodes (no toolchain, no binary in the
// repository) and imports the backend's own WebAssembly.Memory, so the pointers are
// the tensors' heap offsets. Every function is checked against the JS loops and the
// cpu backend by tests/unit/kernels.test.ts.

import v8 from 'node:v8';

// ---- a minimal WebAssembly encoder -------------------------------------------------

const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;
type ValType = typeof I32 | typeof F32 | typeof V128;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const utf8 = (s: string): number[] => [...new TextEncoder().encode(s)];
// concat, not spreads or flat(): a module is assembled once, in cold code, where copying each byte through
// nested spreads cost ~30 ms per run start; concat copies packed arrays in one builtin.
const vec = (items: number[][]): number[] => uleb(items.length).concat(...items);
const section = (id: number, body: number[]): number[] => [id].concat(uleb(body.length), body);

/** One function body under construction: locals are numbered after the parameters. */
class Fn {
  readonly code: number[] = [];
  private readonly locals: ValType[] = [];
  constructor(readonly name: string, readonly params: ValType[]) {}

  local(type: ValType): number {
    this.locals.push(type);
    return this.params.length + this.locals.length - 1;
  }

  op(...bytes: number[]): this { this.code.push(...bytes); return this; }
  get(l: number): this { return this.op(0x20, ...uleb(l)); }
  /** A new i32 local set to `value` here (loop limits are locals). */
  constant(value: number): number {
    const l = this.local(I32);
    this.i32(value).set(l);
    return l;
  }
  set(l: number): this { return this.op(0x21, ...uleb(l)); }
  tee(l: number): this { return this.op(0x22, ...uleb(l)); }
  i32(v: number): this { return this.op(0x41, ...sleb(v | 0)); }
  f32(v: number): this { return this.op(0x43, ...new Uint8Array(new Float32Array([v]).buffer)); }
  simd(op: number): this { return this.op(0xfd, ...uleb(op)); }
  /**
   * acc = acc + a·b (v128 locals): relaxed SIMD's fused multiply-add where `fused` (one rounding, one
   * instruction on FMA hardware), else a multiply and an add.
   */
  madd(acc: number, a: number, b: number, fused: boolean): this {
    if (fused) return this.get(a).get(b).get(acc).simd(F32X4_RELAXED_MADD).set(acc);
    return this.get(acc).get(a).get(b).simd(F32X4_MUL).simd(F32X4_ADD).set(acc);
  }
  // memarg: alignment exponent, offset
  f32Load(offset = 0): this { return this.op(0x2a, 2, ...uleb(offset)); }
  f32Store(offset = 0): this { return this.op(0x38, 2, ...uleb(offset)); }
  v128Load(offset = 0): this { return this.simd(0x00).op(0, ...uleb(offset)); }
  v128Store(offset = 0): this { return this.simd(0x0b).op(0, ...uleb(offset)); }
  /**
   * A vector from memory at (address on the stack) + offset: 4 floats, or where `lanes` is 1–3 only that many
   * (the rest zero), so a row whose length is not a multiple of 4 is never read past its end.
   */
  vectorLoad(offset: number, lanes: number): this {
    if (lanes === 0 || lanes === 4) return this.v128Load(offset);
    if (lanes === 1) return this.simd(0x5c).op(2, ...uleb(offset)); // v128.load32_zero
    if (lanes === 2) return this.simd(0x5d).op(3, ...uleb(offset)); // v128.load64_zero
    const address = this.local(I32), v = this.local(V128);
    this.tee(address).simd(0x5d).op(3, ...uleb(offset)).set(v);
    return this.get(v).get(address).f32Load(offset + 8).simd(F32X4_REPLACE_LANE).op(2);
  }
  /** Stores `lanes` (1–3, or 0 for all 4) floats of the vector in local `value` at local `address` + offset. */
  vectorStore(address: number, value: number, offset: number, lanes: number): this {
    if (lanes === 0 || lanes === 4) return this.get(address).get(value).v128Store(offset);
    if (lanes === 1) return this.get(address).get(value).simd(0x5a).op(2, ...uleb(offset), 0); // v128.store32_lane 0
    this.get(address).get(value).simd(0x5b).op(3, ...uleb(offset), 0); // v128.store64_lane 0
    if (lanes === 3) this.get(address).get(value).simd(F32X4_EXTRACT_LANE).op(2).f32Store(offset + 8);
    return this;
  }
  /** One float loaded into every lane (a single broadcast load on x86). */
  v128Load32Splat(offset = 0): this { return this.simd(0x09).op(2, ...uleb(offset)); }

  /** local = local + step (i32). */
  bump(l: number, step: number | { local: number }): this {
    this.get(l);
    if (typeof step === 'number') this.i32(step); else this.get(step.local);
    return this.op(0x6a).set(l);
  }

  /** while (condition()) body(): the condition leaves an i32 on the stack. */
  whileLoop(condition: () => void, body: () => void): this {
    this.op(0x02, 0x40, 0x03, 0x40); // block, loop
    condition();
    this.op(0x45, 0x0d, 1); // i32.eqz, br_if 1 (leave the block)
    body();
    this.op(0x0c, 0, 0x0b, 0x0b); // br 0 (next turn), end loop, end block
    return this;
  }

  /** if (condition()) then() else otherwise(): the condition leaves an i32 on the stack. */
  ifElse(condition: () => void, then: () => void, otherwise?: () => void): this {
    condition();
    this.op(0x04, 0x40);
    then();
    if (otherwise) { this.op(0x05); otherwise(); }
    return this.op(0x0b);
  }

  /** for (counter = 0; counter < limit; counter++) body() */
  count(counter: number, limit: number, body: () => void): this {
    this.i32(0).set(counter);
    return this.whileLoop(() => { this.get(counter).get(limit).op(0x48); }, () => { body(); this.bump(counter, 1); });
  }

  encodeBody(): number[] {
    const groups: number[][] = this.locals.map((t) => [1, t]);
    const body = vec(groups).concat(this.code, [0x0b]);
    return uleb(body.length).concat(body);
  }
}

const isShared = (memory: WebAssembly.Memory): boolean => typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;

function assemble(fns: Fn[], memory: WebAssembly.Memory): Uint8Array<ArrayBuffer> {
  const types = fns.map((f) => [0x60, ...vec(f.params.map((p) => [p])), 0]);
  // (import "env" "memory" (memory 0)): any size, the backend grows it. The threaded backend's
  // memory is shared, and a shared import must say so and give a maximum: (memory 0 65536 shared).
  const limits = isShared(memory) ? [0x03, 0x00, ...uleb(65536)] : [0x00, 0x00];
  const imports = [[...uleb(3), ...utf8('env'), ...uleb(6), ...utf8('memory'), 0x02, ...limits]];
  const bytes = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00].concat(
    section(1, vec(types)),
    section(2, vec(imports)),
    section(3, vec(fns.map((_, i) => uleb(i)))),
    section(7, vec(fns.map((f, i) => [...uleb(f.name.length), ...utf8(f.name), 0x00, ...uleb(i)]))),
    section(10, vec(fns.map((f) => f.encodeBody()))),
  );
  return new Uint8Array(bytes);
}

// ---- modules compiled once per process ------------------------------------------------

/**
 * Compiled modules by what they hold (functions, shape, fused or not, shared memory or not): compiled once per
 * thread, or handed over by another thread of this process that compiled them (a training engine started
 * early, early-thread.ts): V8 shares a module's code between threads, optimised tiers included, so the taker
 * skips the assembly and the first calls' baseline code.
 */
const compiledModules = new Map<string, WebAssembly.Module>();

function moduleFor(key: string, memory: WebAssembly.Memory, fns: () => Fn[]): WebAssembly.Module {
  const full = `${key}|${isShared(memory) ? 'shared' : 'own'} memory`;
  let module = compiledModules.get(full);
  if (!module) {
    module = new WebAssembly.Module(assemble(fns(), memory));
    compiledModules.set(full, module);
  }
  return module;
}

/** Every module this thread compiled or took, for another thread of this process (adoptSimdModules there). */
export const compiledSimdModules = (): [string, WebAssembly.Module][] => [...compiledModules];

/** Forgets every compiled module, so the next loop of each kind is assembled again (tests: each assembles its own). */
export function forgetCompiledSimdModules(): void {
  compiledModules.clear();
}

/** Takes modules another thread compiled (compiledSimdModules there); a key this thread has already is kept. */
export function adoptSimdModules(entries: Iterable<[string, WebAssembly.Module]>): void {
  for (const [key, module] of entries) if (!compiledModules.has(key) && module instanceof WebAssembly.Module) compiledModules.set(key, module);
}

// ---- the functions -----------------------------------------------------------------

// Opcodes used below.
const I32_ADD = 0x6a, I32_EQ = 0x46, I32_MUL = 0x6c, I32_SUB = 0x6b, I32_LT_U = 0x49, I32_LE_U = 0x4d, I32_SHL = 0x74;
const F32_ADD = 0x92, F32_MUL = 0x94, F32_SUB = 0x93, F32_LT = 0x5d, F32_GT = 0x5e, F32_ABS = 0x8b;
const SELECT = 0x1b;
const F32X4_SPLAT = 0x13, F32X4_EXTRACT_LANE = 0x1f, F32X4_REPLACE_LANE = 0x20, F32X4_EQ = 0x41, F32X4_NE = 0x42, F32X4_GT = 0x44;
const V128_NOT = 0x4d, V128_AND = 0x4e, V128_ANDNOT = 0x4f, V128_OR = 0x50;
const F32X4_ADD = 0xe4, F32X4_SUB = 0xe5, F32X4_MUL = 0xe6, F32X4_ABS = 0xe0, F32X4_LT = 0x43, V128_BITSELECT = 0x52;

// ---- relaxed SIMD --------------------------------------------------------------------

const F32X4_RELAXED_MADD = 0x105;

/** (func (param v128 v128 v128) (result v128) (f32x4.relaxed_madd (local.get 0) (local.get 1) (local.get 2))) */
const RELAXED_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x08, 0x01, 0x60, 0x03, V128, V128, V128, 0x01, V128,
  0x03, 0x02, 0x01, 0x00,
  0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, ...uleb(F32X4_RELAXED_MADD), 0x0b,
]);

let relaxedSupport: boolean | undefined;

function compiles(bytes: Uint8Array<ArrayBuffer>): boolean {
  try {
    new WebAssembly.Module(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether this runtime compiles relaxed SIMD. Electron's V8 does; Node 20 only behind
 * --experimental-wasm-relaxed-simd, which V8 still honours when set before the first module that uses
 * it is compiled, so it is set here (it changes nothing else). Checked once per thread.
 */
export function relaxedSimdSupported(): boolean {
  if (relaxedSupport !== undefined) return relaxedSupport;
  relaxedSupport = compiles(RELAXED_PROBE);
  if (!relaxedSupport && typeof v8.setFlagsFromString === 'function') {
    try {
      v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
      relaxedSupport = compiles(RELAXED_PROBE);
    } catch {
      relaxedSupport = false;
    }
  }
  return relaxedSupport === true;
}

let relaxedWanted = true;
/** Tests turn fused multiply-add off to check the plain SIMD loops on the same runtime. Takes effect for loops assembled afterwards. */
export function setRelaxedSimdEnabled(enabled: boolean): void {
  relaxedWanted = enabled;
}

/** Whether loops assembled now use fused multiply-add. */
export function useRelaxedSimd(): boolean {
  return relaxedWanted && relaxedSimdSupported();
}


/** The element operations of the strided loops. */
export type StridedOp = 'copy' | 'add' | 'mul' | 'scale' | 'addScaled';

/**
 * strided_<op>(dst, src, n0, n1, n2, d0, d1, d2, s0, s1, s2, len, k): for every (i0, i1, i2),
 * a run of `len` floats: dst[D + j] (op)= src[S + j] ('mul': dst ·= src) with D = i0·d0 + i1·d1 + i2·d2 and
 * S likewise (all in floats; dst and src are byte offsets). k is the scale of 'scale'/'addScaled'.
 * Runs go 4 floats at a time, then one by one.
 */
function stridedFn(op: StridedOp): Fn {
  const f = new Fn(`strided_${op}`, [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, F32]);
  const [dst, src, n0, n1, n2, d0, d1, d2, s0, s1, s2, len, k] = f.params.map((_, i) => i) as number[] as
    [number, number, number, number, number, number, number, number, number, number, number, number, number];
  const i0 = f.local(I32), i1 = f.local(I32), i2 = f.local(I32), j = f.local(I32);
  const p0d = f.local(I32), p0s = f.local(I32), p1d = f.local(I32), p1s = f.local(I32);
  const pd = f.local(I32), ps = f.local(I32), end = f.local(I32);
  const kv = f.local(V128);
  f.get(k).simd(F32X4_SPLAT).set(kv);
  // Strides to bytes.
  for (const s of [d0, d1, d2, s0, s1, s2]) f.get(s).i32(2).op(I32_SHL).set(s);
  const scalar = (): void => {
    // *pd (op)= *ps
    f.get(pd);
    if (op === 'add' || op === 'addScaled' || op === 'mul') f.get(pd).f32Load();
    f.get(ps).f32Load();
    if (op === 'scale' || op === 'addScaled') f.get(k).op(F32_MUL);
    if (op === 'add' || op === 'addScaled') f.op(F32_ADD);
    if (op === 'mul') f.op(F32_MUL);
    f.f32Store();
  };
  const vector = (): void => {
    f.get(pd);
    if (op === 'add' || op === 'addScaled' || op === 'mul') f.get(pd).v128Load();
    f.get(ps).v128Load();
    if (op === 'scale' || op === 'addScaled') f.get(kv).simd(F32X4_MUL);
    if (op === 'add' || op === 'addScaled') f.simd(F32X4_ADD);
    if (op === 'mul') f.simd(F32X4_MUL);
    f.v128Store();
  };
  f.get(dst).set(p0d).get(src).set(p0s);
  f.count(i0, n0, () => {
    f.get(p0d).set(p1d).get(p0s).set(p1s);
    f.count(i1, n1, () => {
      f.get(p1d).set(pd).get(p1s).set(ps);
      f.ifElse(() => { f.get(len).i32(1).op(0x46); }, () => {
        // One float per run (transposes, gathers): a tight loop along axis 2.
        f.count(i2, n2, () => {
          scalar();
          f.bump(pd, { local: d2 }).bump(ps, { local: s2 });
        });
      }, () => {
        f.count(i2, n2, () => {
          // The run [pd, pd + 4·len): vectors while 4 floats remain, then singles.
          f.get(pd).get(len).i32(2).op(I32_SHL).op(I32_ADD).set(end);
          f.get(pd).set(j); // j remembers the run start
          f.whileLoop(() => { f.get(pd).i32(16).op(I32_ADD).get(end).op(I32_LE_U); }, () => { vector(); f.bump(pd, 16).bump(ps, 16); });
          f.whileLoop(() => { f.get(pd).get(end).op(I32_LT_U); }, () => { scalar(); f.bump(pd, 4).bump(ps, 4); });
          // Back to the run start, then one step along axis 2.
          f.get(ps).get(pd).get(j).op(I32_SUB).op(I32_SUB).set(ps);
          f.get(j).set(pd);
          f.bump(pd, { local: d2 }).bump(ps, { local: s2 });
        });
      });
      f.bump(p1d, { local: d1 }).bump(p1s, { local: s1 });
    });
    f.bump(p0d, { local: d0 }).bump(p0s, { local: s0 });
  });
  return f;
}

/**
 * max_pool_grad_2x2(x, dy, dx, batch, outHeight, outWidth, channels, inHeight, inWidth), channels ≥ 4:
 * 2×2 windows, stride 2, no padding. Each window sends dy to the first strict maximum in
 * row-major order (NaN never wins; an all −Infinity/NaN window sends nothing). Four channels
 * at a time, without branches: a lane-wise tournament picks the winner, and all four window
 * positions are written (dy or 0), which is exact because windows do not overlap. A last
 * group that would pass the channel count is shifted back to overlap the previous one.
 * Pixels outside every window (odd trailing rows/columns) must be zeroed by the caller.
 */
function maxPoolGrad2x2Fn(): Fn {
  const f = new Fn('max_pool_grad_2x2', [I32, I32, I32, I32, I32, I32, I32, I32, I32]);
  const [x, dy, dx, batch, oh, ow, ch, h, w] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const b = f.local(I32), r = f.local(I32), q = f.local(I32), c = f.local(I32);
  const rowBytes = f.local(I32), chBytes = f.local(I32), win = f.local(I32), pa = f.local(I32), delta = f.local(I32), dyRow = f.local(I32);
  const va = f.local(V128), vb = f.local(V128), vc = f.local(V128), vd = f.local(V128), g = f.local(V128);
  const tb = f.local(V128), td = f.local(V128), tt = f.local(V128), top = f.local(V128), bot = f.local(V128), valid = f.local(V128);
  f.get(w).get(ch).op(I32_MUL).i32(2).op(I32_SHL).set(rowBytes);
  f.get(ch).i32(2).op(I32_SHL).set(chBytes);
  f.get(dx).get(x).op(I32_SUB).set(delta); // dx address = x address + delta
  f.get(dy).set(dyRow);
  // "first beats second" lane-wise: first > second, or second is NaN and first is not.
  const beats = (first: number, second: number): void => {
    f.get(first).get(second).simd(F32X4_GT);
    f.get(second).get(second).simd(F32X4_NE).get(first).get(first).simd(F32X4_EQ).simd(V128_AND);
    f.simd(V128_OR);
  };
  const store = (offset: () => void, mask: () => void): void => {
    // *(win + offset + delta) = dy & mask
    f.get(pa);
    offset();
    f.get(delta).op(I32_ADD);
    f.get(g);
    mask();
    f.simd(V128_AND).v128Store();
  };
  f.count(b, batch, () => {
    f.count(r, oh, () => {
      // win = x + ((b·h + 2r)·w·ch)·4: the top-left of the row's first window
      f.get(b).get(h).op(I32_MUL).get(r).i32(1).op(I32_SHL).op(I32_ADD).get(rowBytes).op(I32_MUL).get(x).op(I32_ADD).set(win);
      f.count(q, ow, () => {
        f.i32(0).set(c);
        f.whileLoop(() => { f.i32(1); }, () => {
          // c = min(c, ch − 4)
          f.get(ch).i32(4).op(I32_SUB).get(c).get(c).get(ch).i32(4).op(I32_SUB).op(0x4a).op(SELECT).set(c);
          f.get(win).get(c).i32(2).op(I32_SHL).op(I32_ADD).set(pa);
          f.get(pa).v128Load().set(va);
          f.get(pa).get(chBytes).op(I32_ADD).v128Load().set(vb);
          f.get(pa).get(rowBytes).op(I32_ADD).v128Load().set(vc);
          f.get(pa).get(rowBytes).op(I32_ADD).get(chBytes).op(I32_ADD).v128Load().set(vd);
          beats(vb, va); f.set(tb);
          f.get(vb).get(va).get(tb).simd(V128_BITSELECT).set(top);
          beats(vd, vc); f.set(td);
          f.get(vd).get(vc).get(td).simd(V128_BITSELECT).set(bot);
          beats(bot, top); f.set(tt);
          // valid = best is a number greater than −Infinity
          f.get(bot).get(top).get(tt).simd(V128_BITSELECT).tee(g).get(g).simd(F32X4_EQ);
          f.get(g).f32(Number.NEGATIVE_INFINITY).simd(F32X4_SPLAT).simd(F32X4_GT).simd(V128_AND).set(valid);
          // g = dy for these channels, masked by valid
          f.get(dyRow).get(c).i32(2).op(I32_SHL).op(I32_ADD).v128Load().get(valid).simd(V128_AND).set(g);
          // a wins: ¬tt ∧ ¬tb; b: ¬tt ∧ tb; c: tt ∧ ¬td; d: tt ∧ td
          store(() => { f.i32(0).op(I32_ADD); }, () => { f.get(tb).get(tt).simd(V128_OR).simd(V128_NOT); });
          store(() => { f.get(chBytes).op(I32_ADD); }, () => { f.get(tb).get(tt).simd(V128_ANDNOT); });
          store(() => { f.get(rowBytes).op(I32_ADD); }, () => { f.get(tt).get(td).simd(V128_ANDNOT); });
          store(() => { f.get(rowBytes).op(I32_ADD).get(chBytes).op(I32_ADD); }, () => { f.get(tt).get(td).simd(V128_AND); });
          // next group, or done when this one reached the last channel
          f.get(c).i32(4).op(I32_ADD).get(ch).op(0x4e).op(0x0d, 1); // i32.ge_s; br_if 1 (leave the loop)
          f.bump(c, 4);
        });
        f.get(win).get(chBytes).i32(1).op(I32_SHL).op(I32_ADD).set(win);
        f.get(dyRow).get(chBytes).op(I32_ADD).set(dyRow);
      });
    });
  });
  return f;
}

/**
 * tanh_finish(x, out, n): out holds σ(2x); make it tanh(x): 2·out − 1, except where
 * |x| < limit, where the odd Taylor series keeps full relative precision.
 */
function tanhFinishFn(limit: number): Fn {
  const f = new Fn('tanh_finish', [I32, I32, I32]);
  const [x, out, n] = [0, 1, 2];
  const end = f.local(I32), v = f.local(V128), v2 = f.local(V128), s = f.local(F32), t2 = f.local(F32);
  f.get(out).get(n).i32(2).op(I32_SHL).op(I32_ADD).set(end);
  const splat = (value: number): void => { f.f32(value).simd(F32X4_SPLAT); };
  f.whileLoop(() => { f.get(out).i32(16).op(I32_ADD).get(end).op(I32_LE_U); }, () => {
    f.get(x).v128Load().set(v);
    f.get(v).get(v).simd(F32X4_MUL).set(v2);
    f.get(out);
    // series: v·(1 + v²·(−1/3 + v²·(2/15 + v²·(−17/315))))
    f.get(v);
    splat(1);
    f.get(v2);
    splat(-1 / 3);
    f.get(v2);
    splat(2 / 15);
    f.get(v2);
    splat(-17 / 315);
    f.simd(F32X4_MUL).simd(F32X4_ADD).simd(F32X4_MUL).simd(F32X4_ADD).simd(F32X4_MUL).simd(F32X4_ADD).simd(F32X4_MUL);
    // 2·σ − 1
    f.get(out).v128Load();
    splat(2);
    f.simd(F32X4_MUL);
    splat(1);
    f.simd(F32X4_SUB);
    // mask |v| < limit picks the series
    f.get(v).simd(F32X4_ABS);
    splat(limit);
    f.simd(F32X4_LT);
    f.simd(V128_BITSELECT);
    f.v128Store();
    f.bump(x, 16).bump(out, 16);
  });
  f.whileLoop(() => { f.get(out).get(end).op(I32_LT_U); }, () => {
    f.get(x).f32Load().set(s);
    f.get(s).get(s).op(F32_MUL).set(t2);
    f.get(out);
    f.get(s).f32(1).get(t2).f32(-1 / 3).get(t2).f32(2 / 15).get(t2).f32(-17 / 315)
      .op(F32_MUL, F32_ADD, F32_MUL, F32_ADD, F32_MUL, F32_ADD, F32_MUL);
    f.get(out).f32Load().f32(2).op(F32_MUL).f32(1).op(F32_SUB);
    f.get(s).op(F32_ABS).f32(limit).op(F32_LT);
    f.op(SELECT);
    f.f32Store();
    f.bump(x, 4).bump(out, 4);
  });
  return f;
}

/** The activations whose gradients activationGradFn computes. */
export type GradActivation = 'relu' | 'sigmoid';

/**
 * <activation>_grad(y, dy, out, n): out = f'(·) ⊙ dy from the activation's output y: ReLU passes dy where
 * y > 0 (NaN and 0 pass nothing), the sigmoid dy·y·(1 − y). The direct step's activation gradients, a
 * JavaScript loop over every map before (≈ 1 ms of a `seed` half-step).
 */
function activationGradFn(activation: GradActivation): Fn {
  const f = new Fn(`${activation}_grad`, [I32, I32, I32, I32]);
  const [y, dy, out, n] = [0, 1, 2, 3];
  const end = f.local(I32), v = f.local(V128), s = f.local(F32), one = f.local(V128);
  f.get(out).get(n).i32(2).op(I32_SHL).op(I32_ADD).set(end);
  f.f32(1).simd(F32X4_SPLAT).set(one);
  f.whileLoop(() => { f.get(out).i32(16).op(I32_ADD).get(end).op(I32_LE_U); }, () => {
    f.get(out);
    if (activation === 'relu') {
      f.get(dy).v128Load();
      f.get(y).v128Load().f32(0).simd(F32X4_SPLAT).simd(F32X4_GT);
      f.simd(V128_AND);
    } else {
      f.get(y).v128Load().set(v);
      f.get(dy).v128Load().get(v).simd(F32X4_MUL);
      f.get(one).get(v).simd(F32X4_SUB).simd(F32X4_MUL);
    }
    f.v128Store();
    f.bump(y, 16).bump(dy, 16).bump(out, 16);
  });
  f.whileLoop(() => { f.get(out).get(end).op(I32_LT_U); }, () => {
    f.get(out);
    if (activation === 'relu') {
      f.get(dy).f32Load().f32(0).get(y).f32Load().f32(0).op(F32_GT).op(SELECT);
    } else {
      f.get(y).f32Load().set(s);
      f.get(dy).f32Load().get(s).op(F32_MUL).f32(1).get(s).op(F32_SUB).op(F32_MUL);
    }
    f.f32Store();
    f.bump(y, 4).bump(dy, 4).bump(out, 4);
  });
  return f;
}

// ---- convolutions with stride 1 and no padding (C1, C3) -----------------------------

/**
 * The shape of a convolution the loops below are specialised for (NHWC, stride 1, no padding, no dilation):
 * sizes are constants in the code, so every tap's offset is an immediate.
 */
export interface ConvShape {
  inHeight: number; inWidth: number; inChannels: number;
  filterHeight: number; filterWidth: number;
  outChannels: number;
}

/** The shape's sizes under short names, with the output's: stride 1 and no padding, so OH = H − FH + 1. */
function convSizes(s: ConvShape) {
  const { inHeight: H, inWidth: W, inChannels: CI, filterHeight: FH, filterWidth: FW, outChannels: CO } = s;
  return { H, W, CI, FH, FW, CO, OH: H - FH + 1, OW: W - FW + 1, V: Math.ceil(CO / 4), tail: CO % 4, L: FW * CI };
}

/**
 * Output pixels the forward loop computes at once for `vectors` vectors of output channels (8 sums at most, at most
 * 4 pixels), beside one input splat per pixel and a filter vector. Measured at batch 32, ms per call: C3 (16 maps:
 * 4 vectors) 1 pixel 0.64, 2 pixels 0.30, 3 0.69, 4 0.57; C1 (6 maps: 2 vectors) 1–2 pixels 0.43–0.45, 3 0.37, 4
 * 0.30; 12 maps (3 vectors) 2 pixels 0.12, 3 0.14, 4 0.19. Past 8 sums V8 spills, or compiles the larger body worse.
 * XNNPACK's kernel took 0.49–0.62 at C3's shape.
 */
const forwardPixels = (vectors: number): number => Math.max(1, Math.min(4, Math.floor(8 / vectors)));
/** Output vectors the forward loop sums at once; more output channels take several passes over the taps. */
const FORWARD_VECTORS = 4;

/** Any stride-1 unpadded convolution whose window fits its input. */
export function convForwardFits(s: ConvShape): boolean {
  return s.inChannels >= 1 && s.outChannels >= 1 && s.filterHeight >= 1 && s.filterWidth >= 1 &&
    s.inHeight >= s.filterHeight && s.inWidth >= s.filterWidth;
}

/**
 * conv_forward(x, w, y, batch, bias, relu): y[n, oy, ox, o] = Σ over ky, kx, i of x[n, oy+ky, ox+kx, i] ·
 * w[ky, kx, i, o], plus bias[o] where `bias` is not 0, then max(·, 0) where `relu` is not 0 (NaN stays NaN).
 * Neighbouring output pixels' sums (4 vectors of channels at a time) stay in registers over every tap, in one
 * flat loop: in NHWC a window row's filterWidth × inChannels inputs are contiguous, and the filter's taps are
 * in that order, so each turn moves both on by one, and a row's end moves x on to the next row. Each filter
 * vector serves every pixel of the block. The last vector of a row of channels that is not a multiple of 4 is
 * read and written lane by lane, never past the row.
 */
function convForwardFn(s: ConvShape, fused: boolean): Fn {
  const f = new Fn('conv_forward', [I32, I32, I32, I32, I32, I32]);
  const [x, w, y, batch, bias, relu] = [0, 1, 2, 3, 4, 5];
  const { H, W, CI, FH, FW, CO, OH, OW, V, tail, L } = convSizes(s);
  const chunk = Math.min(V, FORWARD_VECTORS);
  const PP = Math.min(OW, forwardPixels(chunk));
  const n = f.local(I32), oy = f.local(I32), ox = f.local(I32), t = f.local(I32), kx = f.local(I32);
  const limits = { oh: f.constant(OH), groups: f.constant(Math.floor(OW / PP)), taps: f.constant(FH * L) };
  const xImage = f.local(I32), xPixel = f.local(I32), xq = f.local(I32), wq = f.local(I32), yp = f.local(I32);
  const acc = Array.from({ length: PP * chunk }, () => f.local(V128));
  const d = Array.from({ length: PP }, () => f.local(V128));
  const wv = f.local(V128), zero = f.local(V128);
  f.f32(0).simd(F32X4_SPLAT).set(zero);
  const lanesOf = (v: number): number => (v === V - 1 ? tail : 0);
  /** `pixels` neighbouring output pixels from xPixel / yp. */
  const group = (pixels: number): void => {
    for (let v0 = 0; v0 < V; v0 += FORWARD_VECTORS) {
      const vv = Math.min(FORWARD_VECTORS, V - v0);
      f.ifElse(() => { f.get(bias); },
        () => { for (let v = 0; v < vv; v++) { f.get(bias).vectorLoad(16 * (v0 + v), lanesOf(v0 + v)).set(wv); for (let p = 0; p < pixels; p++) f.get(wv).set(acc[p * vv + v]!); } },
        () => { for (let r = 0; r < pixels * vv; r++) f.get(zero).set(acc[r]!); });
      f.get(xPixel).set(xq).get(w).set(wq).i32(0).set(kx);
      // Every tap in one flat loop (a window row's end moves x on to the next row), so the sums live across one loop only.
      f.count(t, limits.taps, () => {
        for (let p = 0; p < pixels; p++) f.get(xq).v128Load32Splat(p * CI * 4).set(d[p]!);
        for (let v = 0; v < vv; v++) {
          f.get(wq).vectorLoad((v0 + v) * 16, lanesOf(v0 + v)).set(wv);
          for (let p = 0; p < pixels; p++) f.madd(acc[p * vv + v]!, d[p]!, wv, fused);
        }
        f.bump(xq, 4).bump(wq, CO * 4).bump(kx, 1);
        f.ifElse(() => { f.get(kx).i32(L).op(I32_EQ); }, () => { f.i32(0).set(kx).bump(xq, (W - FW) * CI * 4); });
      });
      f.ifElse(() => { f.get(relu); }, () => { for (let r = 0; r < pixels * vv; r++) f.get(acc[r]!).get(zero).simd(F32X4_PMAX).set(acc[r]!); });
      for (let p = 0; p < pixels; p++) for (let v = 0; v < vv; v++) f.vectorStore(yp, acc[p * vv + v]!, (p * CO + 4 * (v0 + v)) * 4, lanesOf(v0 + v));
    }
    f.bump(yp, pixels * CO * 4).bump(xPixel, pixels * CI * 4);
  };
  f.get(x).set(xImage).get(y).set(yp);
  f.count(n, batch, () => {
    f.count(oy, limits.oh, () => {
      f.get(xImage).get(oy).i32(W * CI * 4).op(I32_MUL).op(I32_ADD).set(xPixel);
      f.count(ox, limits.groups, () => { group(PP); });
      if (OW % PP > 0) group(OW % PP);
    });
    f.bump(xImage, H * W * CI * 4);
  });
  return f;
}

/** x, w, y, bias (0: none) as byte offsets; `relu`: max(·, 0). */
export type ConvForwardLoop = (x: number, w: number, y: number, batch: number, bias: number, relu: boolean) => void;
/** x, dy, dW as byte offsets; dW is overwritten. */
export type ConvFilterGradLoop = (x: number, dy: number, dW: number, batch: number) => void;
/** dy, wt (transposeFilterForInputGrad's layout), dx (zeroed beforehand) as byte offsets. */
export type ConvInputGradLoop = (dy: number, wt: number, dx: number, batch: number) => void;

/** The exported function `name` of the module `build` assembles for this shape (compiled once per process), or null where it does not fit or SIMD is missing. */
function convLoop(name: string, fits: boolean, memory: WebAssembly.Memory, shape: ConvShape, fused: boolean,
  build: (madd: boolean) => Fn): ((...args: number[]) => void) | null {
  if (!fits) return null;
  try {
    const madd = fused && relaxedSimdSupported();
    const key = `${name} ${shape.inHeight}x${shape.inWidth}x${shape.inChannels} ${shape.filterHeight}x${shape.filterWidth} ${shape.outChannels} ${madd ? 'fused' : 'plain'}`;
    const module = moduleFor(key, memory, () => [build(madd)]);
    return (new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as Exported)[name] ?? null;
  } catch {
    return null;
  }
}

/** The forward loop for `shape` on `memory`, or null where it does not fit or SIMD is missing. */
export function createConvForward(memory: WebAssembly.Memory, shape: ConvShape, fused = useRelaxedSimd()): ConvForwardLoop | null {
  const run = convLoop('conv_forward', convForwardFits(shape), memory, shape, fused, (madd) => convForwardFn(shape, madd));
  return run && ((x, w, y, batch, bias, relu) => { run(x, w, y, batch, bias, relu ? 1 : 0); });
}

/**
 * Filter taps whose sums the filter-gradient loop keeps in registers at once, for `vectors` vectors of output
 * channels: 8 sums at most (6 taps for one vector), beside the pixel's dy vectors and a tap's splat. Measured at
 * batch 32: C3 (4 vectors) 1 tap 0.57 ms, 2 taps 0.31, 3 taps 0.61; C1 (6 maps: 2 vectors) 2 taps 0.50, 3–4
 * taps 0.31–0.37, 5 taps 0.54; 4 maps (1 vector) 4 taps 0.19, 6 taps 0.16, 8 taps 0.24. Past that V8 spills or
 * compiles the larger body worse. The earlier loops: C3 0.62 ms (3 taps, the pixels in three nested loops), C1
 * 0.53–0.62 (the single-channel loop).
 */
const filterGradTaps = (vectors: number): number => Math.max(1, Math.min(6, Math.floor(8 / vectors)));

/** At most 16 output channels: the pixel's dy vectors stay in registers beside the sums. */
export function convFilterGradFits(s: ConvShape): boolean {
  return s.inChannels >= 1 && s.outChannels >= 1 && s.outChannels <= 16 &&
    s.filterHeight >= 1 && s.filterWidth >= 1 && s.inHeight >= s.filterHeight && s.inWidth >= s.filterWidth;
}

/**
 * conv_filter_grad(x, dy, dW, batch): dW[ky, kx, i, o] = Σ over n, oy, ox of x[n, oy+ky, ox+kx, i] ·
 * dy[n, oy, ox, o]. For one filter row ky, the taps (kx, i) all sit at constant offsets from the input
 * pixel (n, oy+ky, ox): a block of taps keeps its dW rows in registers (taps × ⌈outChannels/4⌉ vectors)
 * through the whole batch, in one flat loop over the output pixels (a row's end and an image's end move the
 * input pointer on), reading each pixel's dy once per block. XNNPACK's route needs x and dy permuted and
 * repacks dy as a filter on every call.
 */
function convFilterGradFn(s: ConvShape, fused: boolean): Fn {
  const f = new Fn('conv_filter_grad', [I32, I32, I32, I32]);
  const [x, dy, dW, batch] = [0, 1, 2, 3];
  const { H, W, CI, FH, CO, OH, OW, V, tail, L: taps } = convSizes(s);
  const TB = filterGradTaps(V);
  const ky = f.local(I32), ox = f.local(I32), oy = f.local(I32), pixel = f.local(I32);
  const limits = { fh: f.constant(FH), pixels: f.local(I32) };
  f.get(batch).i32(OH * OW).op(I32_MUL).set(limits.pixels);
  const xRow = f.local(I32), xp = f.local(I32), dp = f.local(I32), out = f.local(I32);
  const acc = Array.from({ length: TB * V }, () => f.local(V128));
  const d = Array.from({ length: V }, () => f.local(V128));
  const a = f.local(V128);
  f.count(ky, limits.fh, () => {
    f.get(x).get(ky).i32(W * CI * 4).op(I32_MUL).op(I32_ADD).set(xRow);
    f.get(dW).get(ky).i32(taps * CO * 4).op(I32_MUL).op(I32_ADD).set(out);
    for (let first = 0; first < taps; first += TB) {
      const block = Math.min(TB, taps - first);
      for (let r = 0; r < block * V; r++) f.f32(0).simd(F32X4_SPLAT).set(acc[r]!);
      f.get(xRow).set(xp).get(dy).set(dp);
      f.i32(0).set(ox).i32(0).set(oy);
      f.count(pixel, limits.pixels, () => {
        for (let v = 0; v < V; v++) f.get(dp).vectorLoad(16 * v, v === V - 1 ? tail : 0).set(d[v]!);
        for (let t = 0; t < block; t++) {
          f.get(xp).v128Load32Splat((first + t) * 4).set(a);
          for (let v = 0; v < V; v++) f.madd(acc[t * V + v]!, a, d[v]!, fused);
        }
        f.bump(xp, CI * 4).bump(dp, CO * 4).bump(ox, 1);
        f.ifElse(() => { f.get(ox).i32(OW).op(I32_EQ); }, () => {
          f.i32(0).set(ox).bump(xp, (W - OW) * CI * 4).bump(oy, 1);
          f.ifElse(() => { f.get(oy).i32(OH).op(I32_EQ); }, () => { f.i32(0).set(oy).bump(xp, (H - OH) * W * CI * 4); });
        });
      });
      for (let t = 0; t < block; t++) {
        for (let v = 0; v < V; v++) f.vectorStore(out, acc[t * V + v]!, ((first + t) * CO + 4 * v) * 4, v === V - 1 ? tail : 0);
      }
    }
  });
  return f;
}

/** The filter-gradient loop for `shape` on `memory`, or null where it does not fit or SIMD is missing. */
export function createConvFilterGrad(memory: WebAssembly.Memory, shape: ConvShape, fused = useRelaxedSimd()): ConvFilterGradLoop | null {
  return convLoop('conv_filter_grad', convFilterGradFits(shape), memory, shape, fused, (madd) => convFilterGradFn(shape, madd));
}

/**
 * The input-gradient loop's register block: 2 neighbouring output pixels × 4 vectors of their window row, with the
 * pixels' dy splats and one filter vector, 11 of x86-64's 16 vector registers. Measured at C3's shape, batch 32
 * (fused multiply-add): 1 pixel × 8 vectors 0.64 ms, 2 × 4 0.35, 3 × 3 0.37, 4 × 2 0.55; the product + col2im
 * route it replaces 0.63.
 */
const INPUT_GRAD_PIXELS = 2, INPUT_GRAD_VECTORS = 4;

/** Floats of one filter row's window, filterWidth × inChannels, rounded up to whole vectors: the row length of the transposed filter. */
export const inputGradRowFloats = (s: ConvShape): number => Math.ceil((s.filterWidth * s.inChannels) / 4) * 4;

/**
 * Window rows wider than this (floats) go to XNNPACK's route: the loop is unrolled per 4 vectors of the row, and this
 * is the widest measured (5 columns × 32 channels: 0.9–1.0 ms against 1.4–1.75 at batch 32; LeNet's C3 rows are 32).
 */
export const INPUT_GRAD_MAX_ROW_FLOATS = 160;

export function convInputGradFits(s: ConvShape): boolean {
  return s.inChannels >= 1 && s.outChannels >= 1 && s.filterHeight >= 1 && s.filterWidth >= 1 &&
    s.inHeight >= s.filterHeight && s.inWidth >= s.filterWidth && inputGradRowFloats(s) <= INPUT_GRAD_MAX_ROW_FLOATS;
}

/**
 * conv_input_grad(dy, wt, dx, batch): dx[n, oy+ky, ox+kx, i] += Σ over o of dy[n, oy, ox, o] · w[ky, kx, i, o], for
 * every output pixel and filter row, with wt the filter transposed to [ky, o, kx·inChannels + i] (rows padded with
 * zeros to whole vectors) and dx zeroed beforehand. With stride 1 and no padding, the filterWidth × inChannels
 * floats an output pixel adds to one input row are contiguous in NHWC: two neighbouring pixels' sums stay in
 * registers over the output channels, a few vectors of the row at a time, sharing each filter vector, and are
 * added to dx once. XNNPACK's route wrote every pixel's filterHeight·filterWidth·inChannels products to memory
 * and scattered them back (col2im).
 */
function convInputGradFn(s: ConvShape, fused: boolean): Fn {
  const f = new Fn('conv_input_grad', [I32, I32, I32, I32]);
  const [dy, wt, dx, batch] = [0, 1, 2, 3];
  const { W, CI, FH, FW, CO, OH, OW, L } = convSizes(s);
  const R = inputGradRowFloats(s);
  const PP = Math.min(OW, INPUT_GRAD_PIXELS), VV = Math.min(R / 4, INPUT_GRAD_VECTORS);
  const n = f.local(I32), oy = f.local(I32), ox = f.local(I32), ky = f.local(I32), oc = f.local(I32);
  const limits = { oh: f.constant(OH), groups: f.constant(Math.floor(OW / PP)), fh: f.constant(FH), co: f.constant(CO) };
  const dyp = f.local(I32), dq = f.local(I32), dxPixel = f.local(I32), dxp = f.local(I32), wp = f.local(I32);
  const acc = Array.from({ length: PP * VV }, () => f.local(V128));
  const d = Array.from({ length: PP }, () => f.local(V128));
  const wv = f.local(V128);
  /** `pixels` neighbouring output pixels from dyp / dxPixel. */
  const group = (pixels: number): void => {
    f.get(dxPixel).set(dxp).get(wt).set(wp);
    f.count(ky, limits.fh, () => {
      for (let j0 = 0; j0 < R / 4; j0 += VV) {
        const vv = Math.min(VV, R / 4 - j0);
        for (let r = 0; r < pixels * vv; r++) f.f32(0).simd(F32X4_SPLAT).set(acc[r]!);
        f.get(dyp).set(dq);
        // One output channel a turn: a larger body ran slower (V8 compiled it worse).
        f.count(oc, limits.co, () => {
          for (let p = 0; p < pixels; p++) f.get(dq).v128Load32Splat(p * CO * 4).set(d[p]!);
          for (let j = 0; j < vv; j++) {
            f.get(wp).v128Load(4 * (j0 + j) * 4).set(wv);
            for (let p = 0; p < pixels; p++) f.madd(acc[p * vv + j]!, d[p]!, wv, fused);
          }
          f.bump(dq, 4).bump(wp, R * 4);
        });
        f.bump(wp, -CO * R * 4);
        // Each pixel's floats added to dx in turn: neighbouring pixels' windows overlap.
        for (let p = 0; p < pixels; p++) {
          for (let j = 0; j < vv; j++) {
            const first = 4 * (j0 + j), base = (p * CI + first) * 4, a = acc[p * vv + j]!;
            if (first + 4 <= L) f.get(dxp).get(dxp).v128Load(base).get(a).simd(F32X4_ADD).v128Store(base);
            else for (let t = first; t < L; t++) f.get(dxp).get(dxp).f32Load((p * CI + t) * 4).get(a).simd(F32X4_EXTRACT_LANE).op(t - first).op(F32_ADD).f32Store((p * CI + t) * 4);
          }
        }
      }
      f.bump(dxp, W * CI * 4).bump(wp, CO * R * 4);
    });
    f.bump(dyp, pixels * CO * 4).bump(dxPixel, pixels * CI * 4);
  };
  f.get(dy).set(dyp).get(dx).set(dxPixel);
  f.count(n, batch, () => {
    f.count(oy, limits.oh, () => {
      f.count(ox, limits.groups, () => { group(PP); });
      if (OW % PP > 0) group(OW % PP);
      // Next output row: dx's pixel moves past the filterWidth − 1 columns no window starts at.
      f.bump(dxPixel, (FW - 1) * CI * 4);
    });
    // Next image: past the filterHeight − 1 rows no window starts at.
    f.bump(dxPixel, (FH - 1) * W * CI * 4);
  });
  return f;
}

/**
 * The filter [FH, FW, CI, CO] transposed to the input-gradient loop's layout [FH, CO, R] (R: inputGradRowFloats,
 * the row's last floats zero): out[(ky·CO + o)·R + kx·CI + i] = w[((ky·FW + kx)·CI + i)·CO + o].
 */
export function transposeFilterForInputGrad(w: Float32Array, s: ConvShape, out: Float32Array): void {
  const { inChannels: CI, filterHeight: FH, filterWidth: FW, outChannels: CO } = s;
  const R = inputGradRowFloats(s);
  out.fill(0, 0, FH * CO * R);
  for (let ky = 0; ky < FH; ky++) {
    for (let kx = 0; kx < FW; kx++) {
      for (let i = 0; i < CI; i++) {
        const from = ((ky * FW + kx) * CI + i) * CO, to = ky * CO * R + kx * CI + i;
        for (let o = 0; o < CO; o++) out[to + o * R] = w[from + o]!;
      }
    }
  }
}

/** The input-gradient loop for `shape` on `memory`, or null where it does not fit or SIMD is missing. */
export function createConvInputGrad(memory: WebAssembly.Memory, shape: ConvShape, fused = useRelaxedSimd()): ConvInputGradLoop | null {
  return convLoop('conv_input_grad', convInputGradFits(shape), memory, shape, fused, (madd) => convInputGradFn(shape, madd));
}

// ---- small matrix products (C5 and the dense layers) ------------------------------

/**
 * A product c[M, N] = a[M, K] · b[K, N] (+ bias[N], then ReLU), specialised for its sizes. b and c are
 * row-major; a's element (r, k) is at a + r·aRow + k·aCol bytes, so a transposed a costs nothing.
 */
export interface GemmShape {
  m: number; k: number; n: number;
  /** Bytes between a's rows and between its columns: 4k and 4 for a plain a, 4 and 4m for a transposed one. */
  aRow: number; aCol: number;
  bias: boolean;
  relu: boolean;
}

/** Largest sizes the product takes (registers hold 4 rows × 8 columns; bigger products suit XNNPACK's packed kernels). */
export const GEMM_MAX_SIDE = 4096;

export function gemmFits(s: GemmShape): boolean {
  return s.m >= 1 && s.k >= 1 && s.n >= 4 && s.n % 4 === 0 && Math.max(s.m, s.k, s.n) <= GEMM_MAX_SIDE;
}

const F32X4_PMAX = 0xeb;

/**
 * gemm(a, b, c, bias): blocks of 4 rows × 8 columns (then 4 columns, then single rows) keep their sums in
 * registers over the whole of K, each step reading one row of b (two vectors) and one float of a per row.
 * XNNPACK's product repacks b on every call (the weights change each step), which at LeNet's sizes costs
 * as much as the arithmetic.
 */
function gemmFn(s: GemmShape, fused: boolean): Fn {
  const f = new Fn('gemm', [I32, I32, I32, I32]);
  const [a, b, c, bias] = [0, 1, 2, 3];
  const { m: M, k: K, n: N, aRow, aCol } = s;
  const kk = f.local(I32), kLimit = f.constant(K), j = f.local(I32), row = f.local(I32);
  const pa = f.local(I32), pb = f.local(I32), aRowStart = f.local(I32), cRow = f.local(I32);
  const acc = Array.from({ length: 8 }, () => f.local(V128));
  const bv = [f.local(V128), f.local(V128)], av = f.local(V128), zero = f.local(V128);
  f.f32(0).simd(F32X4_SPLAT).set(zero);
  /** The block of `rows` rows × 4·`vectors` columns at row pointer aRowStart, column byte j, output row cRow. */
  const block = (rows: number, vectors: number): void => {
    for (let r = 0; r < rows; r++) for (let v = 0; v < vectors; v++) {
      if (s.bias) f.get(bias).get(j).op(I32_ADD).v128Load(16 * v).set(acc[r * 2 + v]!);
      else f.get(zero).set(acc[r * 2 + v]!);
    }
    f.get(aRowStart).set(pa);
    f.get(b).get(j).op(I32_ADD).set(pb);
    f.count(kk, kLimit, () => {
      for (let v = 0; v < vectors; v++) f.get(pb).v128Load(16 * v).set(bv[v]!);
      for (let r = 0; r < rows; r++) {
        f.get(pa).f32Load(r * aRow).simd(F32X4_SPLAT).set(av);
        for (let v = 0; v < vectors; v++) f.madd(acc[r * 2 + v]!, av, bv[v]!, fused);
      }
      f.bump(pa, aCol).bump(pb, N * 4);
    });
    for (let r = 0; r < rows; r++) for (let v = 0; v < vectors; v++) {
      f.get(cRow).get(j).op(I32_ADD).get(acc[r * 2 + v]!);
      if (s.relu) f.get(zero).simd(F32X4_PMAX);
      f.v128Store(r * N * 4 + 16 * v);
    }
  };
  /** Every column of the rows at aRowStart / cRow, `rows` at a time. */
  const columns = (rows: number): void => {
    f.i32(0).set(j);
    const wide = Math.floor(N / 8);
    if (wide > 0) {
      const jLimit = f.constant(wide * 32);
      f.whileLoop(() => { f.get(j).get(jLimit).op(I32_LT_U); }, () => { block(rows, 2); f.bump(j, 32); });
    }
    if (N % 8 === 4) block(rows, 1);
  };
  const quads = Math.floor(M / 4);
  f.get(a).set(aRowStart).get(c).set(cRow);
  if (quads > 0) {
    const quadLimit = f.constant(quads);
    f.count(row, quadLimit, () => {
      columns(4);
      f.bump(aRowStart, 4 * aRow).bump(cRow, 4 * N * 4);
    });
  }
  if (M % 4 > 0) {
    const restLimit = f.constant(M % 4);
    f.count(row, restLimit, () => {
      columns(1);
      f.bump(aRowStart, aRow).bump(cRow, N * 4);
    });
  }
  return f;
}

/** The product for `shape` on `memory`: (a, b, c, bias) as byte offsets (bias ignored without one); null where it does not fit or SIMD is missing. */
export function createGemm(memory: WebAssembly.Memory, shape: GemmShape, fused = useRelaxedSimd()):
  ((a: number, b: number, c: number, bias: number) => void) | null {
  if (!gemmFits(shape)) return null;
  try {
    const madd = fused && relaxedSimdSupported();
    const key = `gemm ${shape.m} ${shape.k} ${shape.n} ${shape.aRow} ${shape.aCol} ${shape.bias} ${shape.relu} ${madd ? 'fused' : 'plain'}`;
    const module = moduleFor(key, memory, () => [gemmFn(shape, madd)]);
    const exports = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as Exported;
    const run = exports['gemm']!;
    return (a, b, c, bias) => { run(a, b, c, bias); };
  } catch {
    return null;
  }
}

// ---- the instance ------------------------------------------------------------------

export interface SimdLoops {
  strided(op: StridedOp, dst: number, src: number, n: [number, number, number],
    dstStrides: [number, number, number], srcStrides: [number, number, number], len: number, k?: number): void;
  maxPoolGrad2x2(x: number, dy: number, dx: number, batch: number, outHeight: number, outWidth: number,
    channels: number, inHeight: number, inWidth: number): void;
  tanhFinish(x: number, out: number, n: number): void;
  activationGrad(activation: GradActivation, y: number, dy: number, out: number, n: number): void;
}

/** The limit below which tanh uses its series (see tanhFinishFn). */
export const TANH_SERIES_LIMIT = 0.0625;

type Exported = Record<string, (...args: number[]) => void>;

/**
 * Instantiates the loops on `memory` (tfjs-backend-wasm's heap). Returns null where
 * WebAssembly SIMD is unavailable; callers then use their JavaScript loops.
 */
export function createSimdLoops(memory: WebAssembly.Memory): SimdLoops | null {
  const ops: StridedOp[] = ['copy', 'add', 'mul', 'scale', 'addScaled'];
  let exports: Exported;
  try {
    const module = moduleFor(`loops ${TANH_SERIES_LIMIT}`, memory, () => [
      ...ops.map(stridedFn), maxPoolGrad2x2Fn(), tanhFinishFn(TANH_SERIES_LIMIT), activationGradFn('relu'), activationGradFn('sigmoid'),
    ]);
    exports = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as Exported;
  } catch {
    return null;
  }
  const strided = Object.fromEntries(ops.map((op) => [op, exports[`strided_${op}`]!])) as Record<StridedOp, (...a: number[]) => void>;
  const maxPool = exports['max_pool_grad_2x2']!;
  const tanh = exports['tanh_finish']!;
  const grads = { relu: exports['relu_grad']!, sigmoid: exports['sigmoid_grad']! };
  return {
    strided(op, dst, src, n, ds, ss, len, k = 1) {
      if (n[0] <= 0 || n[1] <= 0 || n[2] <= 0 || len <= 0) return;
      strided[op](dst, src, n[0], n[1], n[2], ds[0], ds[1], ds[2], ss[0], ss[1], ss[2], len, k);
    },
    maxPoolGrad2x2(x, dy, dx, batch, outHeight, outWidth, channels, inHeight, inWidth) {
      maxPool(x, dy, dx, batch, outHeight, outWidth, channels, inHeight, inWidth);
    },
    tanhFinish(x, out, n) {
      tanh(x, out, n);
    },
    activationGrad(activation, y, dy, out, n) {
      grads[activation](y, dy, out, n);
    },
  };
}
