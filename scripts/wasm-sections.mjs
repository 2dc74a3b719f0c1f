// Reading and rewriting a WebAssembly binary section by section, for the build's rewrites of
// h5wasm's module (share-wasm-memory.mjs, heap-image.mjs): only the sections they change are
// re-encoded, every other byte is copied as it was.

/** An unsigned LEB128 at `at`: its value, where it ends, and its width in bits. */
function leb128(bytes, at) {
  let value = 0;
  let shift = 0;
  let byte;
  do {
    byte = bytes[at++];
    if (byte === undefined) throw new Error('truncated LEB128');
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return { value, at, bits: shift };
}

/** An unsigned LEB128 at `at`: its value and where it ends. */
export function readLeb(bytes, at) {
  const { value, at: end } = leb128(bytes, at);
  return { value, at: end };
}

/** A signed LEB128 at `at` read as a 32-bit integer (an `i32.const`): its value and where it ends. */
export function readSleb32(bytes, at) {
  const { value, at: end, bits } = leb128(bytes, at);
  const negative = bits < 32 && value >= 2 ** (bits - 1);
  return { value: (negative ? value - 2 ** bits : value) | 0, at: end };
}

/** `value` (a non-negative integer) as an unsigned LEB128. */
export function leb(value) {
  const out = [];
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    out.push(byte);
  } while (value > 0);
  return out;
}

/** `value` (a 32-bit integer) as a signed LEB128, as `i32.const` takes it. */
export function sleb32(value) {
  const out = [];
  let rest = value | 0;
  for (;;) {
    const byte = rest & 0x7f;
    rest >>= 7;
    if ((rest === 0 && !(byte & 0x40)) || (rest === -1 && byte & 0x40)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

/** Each section's id and byte range (`start` of the section, `payload` to `end` its contents). */
export function sections(bytes) {
  if (bytes.readUInt32LE(0) !== 0x6d736100) throw new Error('not a WebAssembly module');
  const list = [];
  let at = 8;
  while (at < bytes.length) {
    const id = bytes[at];
    const size = readLeb(bytes, at + 1);
    list.push({ id, start: at, payload: size.at, end: size.at + size.value });
    at = size.at + size.value;
  }
  return list;
}

/** `bytes` with one section's payload replaced (its size re-encoded). */
export function withSection(bytes, section, payload) {
  return Buffer.concat([
    bytes.subarray(0, section.start),
    Buffer.from([section.id, ...leb(payload.length)]),
    payload,
    bytes.subarray(section.end),
  ]);
}
