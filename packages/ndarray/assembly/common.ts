// What the kernel modules other than the GEMM share: where the host's
// operands start, and reading a record of int32 fields.

const DATA: usize = (__heap_base + 63) & ~(<usize>63);

/** First byte the host may use for operands (64-byte aligned). */
export function dataStart(): usize {
  return DATA;
}

/** Field `index` of the int32 record at `record`. */
// @ts-ignore: decorator
@inline
export function field(record: usize, index: i32): i32 {
  return load<i32>(record + (<usize>index << 2));
}
