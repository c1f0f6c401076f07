// Model weights on the wire: WireTensor = { name, shape, data: base64 of float32 little-endian }.
// Isomorphic (worker, main process and renderer): a small base64 codec that needs neither Buffer nor btoa,
// using Buffer only as a faster path when it exists.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { WireTensor } from '../protocol.js';
import { MaskedConv2D } from './layers.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DECODE = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

interface BufferLike {
  from(data: ArrayBuffer, byteOffset: number, length: number): { toString(encoding: 'base64'): string };
  from(data: string, encoding: 'base64'): Uint8Array;
}
/** Node's Buffer when present (looked up per call, so tests can exercise the portable path). */
const nodeBuffer = (): BufferLike | undefined => (globalThis as { Buffer?: BufferLike }).Buffer;

function bytesOf(data: ArrayBufferView | ArrayBuffer): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

/** Standard base64 (with padding) of the bytes of any typed array or buffer. */
export function encodeBase64(data: ArrayBufferView | ArrayBuffer): string {
  const bytes = bytesOf(data);
  const NodeBuffer = nodeBuffer();
  if (NodeBuffer) return NodeBuffer.from(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  const parts: string[] = [];
  const CHUNK = 3 * 4096;
  for (let start = 0; start < bytes.length; start += CHUNK) {
    const end = Math.min(bytes.length, start + CHUNK);
    let out = '';
    let i = start;
    for (; i + 2 < end; i += 3) {
      const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
      out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + ALPHABET[n & 63]!;
    }
    if (end - i === 1) {
      const n = bytes[i]! << 16;
      out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + '==';
    } else if (end - i === 2) {
      const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
      out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + '=';
    }
    parts.push(out);
  }
  return parts.join('');
}

/** Decodes standard padded base64; throws a RangeError on anything else. */
export function decodeBase64(text: string): Uint8Array {
  if (text.length % 4 !== 0) throw new RangeError(`invalid base64: length ${text.length} is not a multiple of 4`);
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const outLength = (text.length / 4) * 3 - padding;
  const body = text.length - padding;
  for (let i = 0; i < body; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128 || DECODE[c]! < 0) throw new RangeError(`invalid base64: unexpected character at ${i}`);
  }
  const NodeBuffer = nodeBuffer();
  if (NodeBuffer) return new Uint8Array(NodeBuffer.from(text, 'base64'));
  const out = new Uint8Array(outLength);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    const a = DECODE[text.charCodeAt(i)]!;
    const b = DECODE[text.charCodeAt(i + 1)]!;
    const c = i + 2 < body ? DECODE[text.charCodeAt(i + 2)]! : 0;
    const d = i + 3 < body ? DECODE[text.charCodeAt(i + 3)]! : 0;
    const n = (a << 18) | (b << 12) | (c << 6) | d;
    if (o < outLength) out[o++] = n >> 16;
    if (o < outLength) out[o++] = (n >> 8) & 255;
    if (o < outLength) out[o++] = n & 255;
  }
  return out;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** float32 values → little-endian bytes (a view, no copy, on little-endian machines). */
function float32ToLittleEndian(values: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return out;
}

/** The float32 values of a WireTensor; checks that the byte count matches its shape. */
export function wireToFloat32(tensor: WireTensor): Float32Array {
  const bytes = decodeBase64(tensor.data);
  const count = tensor.shape.reduce((a, d) => a * d, 1);
  if (bytes.byteLength !== count * 4) {
    throw new RangeError(`tensor ${tensor.name}: ${bytes.byteLength} bytes do not hold shape [${tensor.shape.join(',')}] (${count * 4} bytes of float32)`);
  }
  if (!LITTLE_ENDIAN) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return Float32Array.from({ length: count }, (_, i) => view.getFloat32(i * 4, true));
  }
  // Copy into a fresh, aligned buffer (decoded bytes may sit at an unaligned offset).
  return new Float32Array(bytes.slice().buffer);
}

export function tensorToWire(name: string, tensor: tf.Tensor): WireTensor {
  const values = tensor.dtype === 'float32' ? (tensor.dataSync() as Float32Array) : Float32Array.from(tensor.dataSync());
  return { name, shape: [...tensor.shape], data: encodeBase64(float32ToLittleEndian(values)) };
}

/** Each weight with its saved (original) name, values read now; C3's removed links are exactly zero. */
function namedWeightValues(model: tfl.LayersModel): { name: string; value: tf.Tensor; owned: boolean }[] {
  const out: { name: string; value: tf.Tensor; owned: boolean }[] = [];
  for (const layer of model.layers) {
    const values = layer instanceof MaskedConv2D ? layer.maskedWeightValues() : null;
    layer.weights.forEach((w, i) => {
      out.push({ name: w.originalName, value: values?.[i] ?? w.read(), owned: values !== null });
    });
  }
  return out;
}

/**
 * The model's weights as WireTensors, named like the saved weights ('C1/kernel', 'C3/bias', …).
 * `names` restricts the list (e.g. ['C1/kernel', 'C3/kernel', 'C5/kernel'] for the Filters view).
 */
export function modelToWire(model: tfl.LayersModel, options: { names?: readonly string[] } = {}): WireTensor[] {
  const wanted = options.names ? new Set(options.names) : null;
  const weights = namedWeightValues(model);
  try {
    return weights.filter((w) => !wanted || wanted.has(w.name)).map((w) => tensorToWire(w.name, w.value));
  } finally {
    for (const w of weights) if (w.owned) w.value.dispose();
  }
}

/**
 * Writes WireTensors into the model's weights by name. Every tensor must name a weight of this model with
 * the same shape (else nothing is written and a RangeError says which); weights not listed stay as they are.
 */
export function wireToWeights(model: tfl.LayersModel, tensors: readonly WireTensor[]): void {
  const byName = new Map<string, tfl.LayerVariable>();
  for (const layer of model.layers) for (const w of layer.weights) byName.set(w.originalName, w);
  const decoded = tensors.map((t) => {
    const target = byName.get(t.name);
    if (!target) throw new RangeError(`tensor ${t.name} is not a weight of model ${model.name} (its weights: ${[...byName.keys()].join(', ')})`);
    if (target.shape.length !== t.shape.length || target.shape.some((d, i) => d !== t.shape[i])) {
      throw new RangeError(`tensor ${t.name} has shape [${t.shape.join(',')}], model ${model.name} expects [${target.shape.join(',')}]`);
    }
    return { target, values: wireToFloat32(t), shape: t.shape };
  });
  for (const { target, values, shape } of decoded) {
    const value = tf.tensor(values, shape, 'float32');
    target.write(value);
    value.dispose();
  }
  for (const layer of model.layers) if (layer instanceof MaskedConv2D) layer.applyMask();
}
