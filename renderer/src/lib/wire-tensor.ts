// WireTensors (base64 float32, see common/network/wire.ts) as typed arrays for drawing.
import type { WireTensor } from '../../../common/protocol.js';
import { decodeBase64, wireToFloat32 } from '../../../common/network/wire.js';

export { decodeBase64 };

export interface TensorData {
  shape: number[];
  data: Float32Array;
}

export function decodeWireTensor(tensor: WireTensor): TensorData {
  return { shape: tensor.shape, data: wireToFloat32(tensor) };
}

export function decodeWireTensors(tensors: readonly WireTensor[]): Map<string, TensorData> {
  return new Map(tensors.map((tensor) => [tensor.name, decodeWireTensor(tensor)]));
}
