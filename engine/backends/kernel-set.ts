// One way to put LeNet Lab's kernels in place of a backend's own, for the wasm and the cpu backend alike:
// each replacement keeps the original's setup and dispose functions (so the original stays callable and
// its kernels' shared state is still set up), the originals stay reachable for the cases ours hand back,
// and registering is idempotent, even from two copies of the engine's modules in one process.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs-core';

/** Marks our kernel functions, across module copies. */
const OURS = Symbol.for('lenet-lab.kernel');

const isOurs = (f: KernelFunc): boolean => (f as unknown as Record<symbol, unknown>)[OURS] === true;

export class KernelSet {
  private readonly originals = new Map<string, KernelConfig>();
  private registered = false;

  /** `kernels`: our kernel function per kernel name. */
  constructor(readonly backendName: string, private readonly kernels: Readonly<Record<string, KernelFunc>>) {
    for (const f of Object.values(kernels)) (f as unknown as Record<symbol, unknown>)[OURS] = true;
  }

  /** The kernel names this set replaces. */
  get names(): string[] {
    return Object.keys(this.kernels);
  }

  /**
   * Puts our kernels in place of the backend's. Idempotent; a kernel that another copy of this module
   * already replaced keeps that copy's (it has its own originals). Call it before or after the backend
   * starts: the kernels only run once it has.
   */
  register(): void {
    if (this.registered) return;
    for (const [kernelName, kernelFunc] of Object.entries(this.kernels)) {
      const existing = tf.getKernel(kernelName, this.backendName);
      if (existing && isOurs(existing.kernelFunc)) continue;
      const config: KernelConfig = { kernelName, backendName: this.backendName, kernelFunc };
      // A kernel the backend lacks (wasm's Conv2DBackpropFilter) is added, with no original to keep.
      if (existing) {
        this.originals.set(kernelName, existing);
        tf.unregisterKernel(kernelName, this.backendName);
        if (existing.setupFunc) config.setupFunc = existing.setupFunc;
        if (existing.disposeFunc) config.disposeFunc = existing.disposeFunc;
      }
      tf.registerKernel(config);
    }
    this.registered = true;
  }

  /** Puts the backend's own kernels back, and removes those it lacked (tests compare against them). */
  unregister(): void {
    if (!this.registered) return;
    for (const kernelName of this.names) {
      const current = tf.getKernel(kernelName, this.backendName);
      if (current && current.kernelFunc === this.kernels[kernelName]) tf.unregisterKernel(kernelName, this.backendName);
      const original = this.originals.get(kernelName);
      if (original) tf.registerKernel(original);
    }
    this.originals.clear();
    this.registered = false;
  }

  /** The backend's own kernel `kernelName`: the one ours replaced, or the one registered now if ours is not. */
  original(kernelName: string): KernelFunc {
    const replaced = this.originals.get(kernelName);
    if (replaced) return replaced.kernelFunc;
    const current = tf.getKernel(kernelName, this.backendName);
    if (!current || isOurs(current.kernelFunc)) throw new Error(`the ${this.backendName} backend's own ${kernelName} kernel is not known here`);
    return current.kernelFunc;
  }
}
