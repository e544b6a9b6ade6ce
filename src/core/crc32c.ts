/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82f63b78), the checksum of WAL
 * records and snapshot files. Node 20 has no built-in CRC-32C, so this is a
 * table-driven slicing-by-8 implementation: eight table lookups per 8 input
 * bytes. Known answer: crc32c("123456789") = 0xe3069283 (RFC 3720 B.4).
 */
const POLYNOMIAL = 0x82f63b78;
const SLICES = 8;

const tables: Uint32Array = buildTables();

function buildTables(): Uint32Array {
  const table = new Uint32Array(256 * SLICES);
  for (let byte = 0; byte < 256; byte += 1) {
    let crc = byte;
    for (let bit = 0; bit < 8; bit += 1) crc = crc & 1 ? (crc >>> 1) ^ POLYNOMIAL : crc >>> 1;
    table[byte] = crc >>> 0;
  }
  for (let slice = 1; slice < SLICES; slice += 1) {
    for (let byte = 0; byte < 256; byte += 1) {
      const previous = table[(slice - 1) * 256 + byte]!;
      table[slice * 256 + byte] = ((previous >>> 8) ^ table[previous & 0xff]!) >>> 0;
    }
  }
  return table;
}

/**
 * Extends `crc` (the checksum of the bytes so far; 0 for none) over `bytes`.
 * crc32c(b, crc32c(a)) equals crc32c(a ++ b), so a record's checksum can be
 * computed over separate header and payload buffers without copying.
 */
export function crc32c(bytes: Uint8Array, crc = 0): number {
  const t = tables;
  let c = ~crc >>> 0;
  let i = 0;
  const end8 = bytes.length - (bytes.length % 8);
  while (i < end8) {
    const lo = (c ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24))) >>> 0;
    c =
      t[7 * 256 + (lo & 0xff)]! ^
      t[6 * 256 + ((lo >>> 8) & 0xff)]! ^
      t[5 * 256 + ((lo >>> 16) & 0xff)]! ^
      t[4 * 256 + (lo >>> 24)]! ^
      t[3 * 256 + bytes[i + 4]!]! ^
      t[2 * 256 + bytes[i + 5]!]! ^
      t[256 + bytes[i + 6]!]! ^
      t[bytes[i + 7]!]!;
    i += 8;
  }
  while (i < bytes.length) {
    c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
    i += 1;
  }
  return ~c >>> 0;
}
