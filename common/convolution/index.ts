// The convolution lab's core: the four kinds computed by tfjs operations, their arithmetic, the sliding-window
// explanations, kernel presets and digit transforms. Isomorphic (tfjs-core only): the renderer and the CLI share it.
export * from './geometry.js';
export * from './kernels.js';
export * from './compute.js';
export * from './explain.js';
export * from './transforms.js';
