/**
 * HPACK's Huffman code (RFC 7541, Appendix B), for decoding header strings.
 * The code is canonical: codes of one length are consecutive, in symbol
 * order, shorter lengths first. So the table is just each symbol's code
 * length (257 symbols, the last one EOS), and the codes follow from it.
 * Lengths are written as letters, 'A' = 5 bits … 'Z' = 30 bits.
 */
const CODE_LENGTHS =
  'ISXXXXXXXTZXXZXXXXXXXXZXXXXXXXXXBFFHIBDGFFDGDBBBAAABBBBBBBCDKBHFIBCCCCCCCCCCCCCCCCCCCCCCDCDIOIJBKABABABBBACCBBBAB' +
  'CBAABCCCCCKGJIXPRPPRRRSRSSSSSTSTTRSTSSSSQRSRSSTRQPRRSSQSRRTQRSSQQRQSRSSPRRRSRRSVVPORSRUVVVWWVTUOQVWWVWTQQVVXWWW' +
  'PTPQRQQSRRUUTTVSVWVVWWWWWXWWWWWVZ';
const EOS = 256;
const MAX_BITS = 30;

const lengths = Array.from(CODE_LENGTHS, (letter) => letter.charCodeAt(0) - 'A'.charCodeAt(0) + 5);
/** Symbols in code order; for each length, its first code and where its symbols start in that order. */
const symbolsInOrder = Array.from(lengths.keys()).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
const firstCode = new Array<number>(MAX_BITS + 2).fill(0);
const firstSlot = new Array<number>(MAX_BITS + 2).fill(0);
const countOfLength = new Array<number>(MAX_BITS + 2).fill(0);
for (const length of lengths) countOfLength[length]! += 1;
for (let length = 1, code = 0, slot = 0; length <= MAX_BITS; length += 1) {
  firstCode[length] = code;
  firstSlot[length] = slot;
  code = (code + countOfLength[length]!) * 2;
  slot += countOfLength[length]!;
}

/** The code of `symbol` (0–256) and its length in bits. */
export function huffmanCode(symbol: number): { code: number; bits: number } {
  const bits = lengths[symbol]!;
  const rank = symbolsInOrder.indexOf(symbol) - firstSlot[bits]!;
  return { code: firstCode[bits]! + rank, bits };
}

/**
 * Decodes `bytes[start, end)` to a string of octets (latin1), or undefined
 * when they are not a valid encoding: EOS inside, or padding that is longer
 * than 7 bits or not a prefix of EOS (all ones), both errors by §5.2.
 */
export function decodeHuffman(bytes: Uint8Array, start: number, end: number): string | undefined {
  let out = '';
  let code = 0;
  let bits = 0;
  for (let i = start; i < end; i += 1) {
    const byte = bytes[i]!;
    for (let bit = 7; bit >= 0; bit -= 1) {
      code = code * 2 + ((byte >> bit) & 1);
      bits += 1;
      const rank = code - firstCode[bits]!;
      if (rank < countOfLength[bits]!) {
        const symbol = symbolsInOrder[firstSlot[bits]! + rank]!;
        if (symbol === EOS) return undefined;
        out += String.fromCharCode(symbol);
        code = 0;
        bits = 0;
      } else if (bits === MAX_BITS) return undefined;
    }
  }
  // What is left must be at most 7 bits, all ones.
  return bits <= 7 && code === 2 ** bits - 1 ? out : undefined;
}
