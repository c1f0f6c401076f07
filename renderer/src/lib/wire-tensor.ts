// Decodes a WireTensor (base64 of little-endian float32) into a typed array.
// Every browser this app runs in is little-endian, so the bytes map directly.
import type { WireTensor } from '../../../engine/protocol.js';

export interface TensorData {
  shape: number[];
  data: Float32Array;
}

export function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export function decodeWireTensor(tensor: WireTensor): TensorData {
  const bytes = decodeBase64(tensor.data);
  const data = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2);
  return { shape: tensor.shape, data };
}

export function decodeWireTensors(tensors: readonly WireTensor[]): Map<string, TensorData> {
  return new Map(tensors.map((tensor) => [tensor.name, decodeWireTensor(tensor)]));
}
