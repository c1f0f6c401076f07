// The variants' and backends' names as plain constants, without zod: the training thread imports them, and
// loading zod there cost ≈ 100 ms of every second engine's start (protocol.ts builds its schemas from these).
export const VARIANT_NAMES = ['lenet5', 'seed', 'modern', 'linear', 'lenet1', 'lenet4'] as const;
export const BACKEND_NAMES = ['tensorflow', 'wasm', 'cpu'] as const;
