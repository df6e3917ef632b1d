/**
 * Go's `gzip.NewWriter(&buf); w.Write(data); w.Close()`, byte for byte, in TypeScript.
 *
 * volantd passes the manifest as `volant.manifest=<base64url(gzip(json))>` and we must reproduce
 * that parameter exactly. Node's zlib is a different deflate implementation (other matches, other
 * Huffman trees, another header), so this is a port of the path Go takes for that call:
 * compress/gzip's header and trailer around compress/flate at DefaultCompression (level 6: the lazy
 * matcher `compressor.deflate`, `huffmanBitWriter.writeBlock`, `huffmanEncoder.generate`).
 *
 * Ported from Go 1.19 (/usr/lib/go-1.19/src/compress/{flate,gzip}); the output of this path is the
 * same up to Go 1.26. Go 1.27 replaced compress/flate with another encoder (golang/go commit
 * 388145c51b07, "compress/flate: improve compression speed"), whose output differs; volantd's
 * releases are built with Go 1.24.x (GO_VERSION in volant's release workflow), so this is the
 * encoder they run.
 *
 * Names follow Go's so the port can be checked line by line against the original files.
 */

// ---------------------------------------------------------------------------------------------
// deflate.go constants, and the level-6 row of its `levels` table

const logWindowSize = 15
const windowSize = 1 << logWindowSize
const windowMask = windowSize - 1
const baseMatchLength = 3 // the smallest match length per RFC 1951 3.2.5
const minMatchLength = 4 // the smallest match length the compressor emits
const maxMatchLength = 258
const baseMatchOffset = 1
const maxFlateBlockTokens = 1 << 14
const maxStoreBlockSize = 65535
const hashBits = 17
const hashSize = 1 << hashBits
const hashMask = hashSize - 1
const maxHashOffset = 1 << 24
const maxInt32 = 0x7fffffff

// levels[6] = {level 6, good 8, lazy 16, nice 128, chain 128, fastSkipHashing skipNever}.
// fastSkipHashing == skipNever selects the lazy-matching branches of deflate(); the others are
// left out of this port.
const levelGood = 8
const levelLazy = 16
const levelNice = 128
const levelChain = 128

// ---------------------------------------------------------------------------------------------
// token.go

const lengthShift = 22
const offsetMask = (1 << lengthShift) - 1
const matchType = 1 << 30

function literalToken(literal: number): number {
  return literal
}

function matchToken(xlength: number, xoffset: number): number {
  return matchType + (xlength << lengthShift) + xoffset
}

function tokenLength(t: number): number {
  return (t - matchType) >>> lengthShift
}

function tokenOffset(t: number): number {
  return t & offsetMask
}

function lengthCode(len: number): number {
  return lengthCodes[len]!
}

function offsetCode(off: number): number {
  if (off < offsetCodes.length) return offsetCodes[off]!
  if (off >>> 7 < offsetCodes.length) return offsetCodes[off >>> 7]! + 14
  return offsetCodes[off >>> 14]! + 28
}

/** token.go's lengthCodes table (length - 3 -> length code - 257), derived from lengthBase. */
function buildLengthCodes(): Uint8Array {
  const table = new Uint8Array(256)
  for (let code = 0; code < lengthBase.length; code++) {
    const end = code + 1 < lengthBase.length ? lengthBase[code + 1]! : 256
    for (let len = lengthBase[code]!; len < end; len++) table[len] = code
  }
  return table
}

/** token.go's offsetCodes table (offset - 1 -> offset code, for offsets below 257). */
function buildOffsetCodes(): Uint8Array {
  const table = new Uint8Array(256)
  for (let code = 0; code < 16; code++) {
    const end = code + 1 < 16 ? offsetBase[code + 1]! : 256
    for (let off = offsetBase[code]!; off < end; off++) table[off] = code
  }
  return table
}

// ---------------------------------------------------------------------------------------------
// huffman_bit_writer.go constants and tables

const maxNumLit = 286 // inflate.go
const offsetCodeCount = 30
const endBlockMarker = 256
const lengthCodesStart = 257
const codegenCodeCount = 19
const badCode = 255

const lengthExtraBits = [
  /* 257 */ 0, 0, 0, /* 260 */ 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, /* 270 */ 2, 2, 2, 3, 3, 3, 3, 4, 4, 4,
  /* 280 */ 4, 5, 5, 5, 5, 0
]

const lengthBase = [
  0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160,
  192, 224, 255
]

const offsetExtraBits = [
  0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13
]

const offsetBase = [
  0x000000, 0x000001, 0x000002, 0x000003, 0x000004, 0x000006, 0x000008, 0x00000c, 0x000010,
  0x000018, 0x000020, 0x000030, 0x000040, 0x000060, 0x000080, 0x0000c0, 0x000100, 0x000180,
  0x000200, 0x000300, 0x000400, 0x000600, 0x000800, 0x000c00, 0x001000, 0x001800, 0x002000,
  0x003000, 0x004000, 0x006000
]

const lengthCodes = buildLengthCodes()
const offsetCodes = buildOffsetCodes()

// The odd order in which the codegen code sizes are written.
const codegenOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

// ---------------------------------------------------------------------------------------------
// huffman_code.go

interface LiteralNode {
  literal: number
  freq: number
}

interface LevelInfo {
  level: number
  lastFreq: number // the frequency of the last node at this level
  nextCharFreq: number // the frequency of the next character to add to this level
  nextPairFreq: number // the frequency of the next pair (from the level below) to add
  needed: number // chains remaining to generate for this level before moving up
}

const maxBitsLimit = 16

function reverseBits(number: number, bitLength: number): number {
  let reversed = 0
  for (let i = 0; i < bitLength; i++) reversed = (reversed << 1) | ((number >>> i) & 1)
  return reversed
}

class HuffmanEncoder {
  // Go's []hcode, as two arrays: the bit-reversed code and its length (0 = unused symbol).
  readonly code: Uint16Array
  readonly len: Uint16Array

  constructor(size: number) {
    this.code = new Uint16Array(size)
    this.len = new Uint16Array(size)
  }

  bitLength(freq: Int32Array): number {
    let total = 0
    for (let i = 0; i < freq.length; i++) {
      const f = freq[i]!
      if (f !== 0) total += f * this.len[i]!
    }
    return total
  }

  /**
   * bitCounts: how many literals get each bit length, by Go's package-merge variant (its exact
   * order of taking leaves and pairs decides the lengths where several trees are optimal).
   * `list` is sorted by increasing frequency and has at least 3 entries.
   */
  private bitCounts(list: LiteralNode[], maxBits: number): number[] {
    if (maxBits >= maxBitsLimit) throw new Error('flate: maxBits too large')
    const n = list.length
    // list[n] = maxNode()
    const freqAt = (i: number): number => (i < n ? list[i]!.freq : maxInt32)

    // The tree can't have greater depth than n - 1, no matter what.
    if (maxBits > n - 1) maxBits = n - 1

    // levels[0] is a bogus level whose sole purpose is that level 1's nextPairFreq is never chosen.
    const levels: LevelInfo[] = []
    for (let i = 0; i <= maxBitsLimit; i++) {
      levels.push({ level: 0, lastFreq: 0, nextCharFreq: 0, nextPairFreq: 0, needed: 0 })
    }
    // leafCounts[i][j] is the number of literals at the left of the level-j ancestor of the
    // rightmost node at level i.
    const leafCounts: Int32Array[] = []
    for (let i = 0; i < maxBitsLimit; i++) leafCounts.push(new Int32Array(maxBitsLimit))

    for (let level = 1; level <= maxBits; level++) {
      // For every level, the first two items are the first two characters.
      levels[level] = {
        level,
        lastFreq: freqAt(1),
        nextCharFreq: freqAt(2),
        nextPairFreq: level === 1 ? maxInt32 : freqAt(0) + freqAt(1),
        needed: 0
      }
      leafCounts[level]![level] = 2
    }

    // We need a total of 2*n - 2 items at top level and have already generated 2.
    levels[maxBits]!.needed = 2 * n - 4

    let level = maxBits
    for (;;) {
      const l = levels[level]!
      if (l.nextPairFreq === maxInt32 && l.nextCharFreq === maxInt32) {
        // Out of both leaves and pairs: end this level and never come back to it or below.
        l.needed = 0
        levels[level + 1]!.nextPairFreq = maxInt32
        level++
        continue
      }

      const prevFreq = l.lastFreq
      if (l.nextCharFreq < l.nextPairFreq) {
        // The next item on this row is a leaf node.
        const next = leafCounts[level]![level]! + 1
        l.lastFreq = l.nextCharFreq
        leafCounts[level]![level] = next
        l.nextCharFreq = freqAt(next)
      } else {
        // The next item on this row is a pair from the previous row.
        l.lastFreq = l.nextPairFreq
        // Take leaf counts from the lower level, except counts[level] remains the same.
        leafCounts[level]!.set(leafCounts[level - 1]!.subarray(0, level))
        levels[l.level - 1]!.needed = 2
      }

      l.needed--
      if (l.needed === 0) {
        // Done with this level: continue one level up, whose next pair is the two nodes just made.
        if (l.level === maxBits) break
        levels[l.level + 1]!.nextPairFreq = prevFreq + l.lastFreq
        level++
      } else {
        // If we stole from below, move down temporarily to replenish it.
        while (levels[level - 1]!.needed > 0) level--
      }
    }

    if (leafCounts[maxBits]![maxBits] !== n) {
      throw new Error('flate: leafCounts[maxBits][maxBits] != n')
    }

    const bitCount: number[] = new Array<number>(maxBits + 1).fill(0)
    let bits = 1
    const counts = leafCounts[maxBits]!
    for (let lvl = maxBits; lvl > 0; lvl--) {
      // counts[lvl] - counts[lvl-1] literals need exactly `bits` bits.
      bitCount[bits] = counts[lvl]! - counts[lvl - 1]!
      bits++
    }
    return bitCount
  }

  /** assignEncodingAndSize: canonical codes (RFC 1951 3.2.2), in literal order within a length. */
  private assignEncodingAndSize(bitCount: number[], list: LiteralNode[]): void {
    let code = 0
    let remaining = list.length
    for (let n = 0; n < bitCount.length; n++) {
      const bits = bitCount[n]!
      code <<= 1
      if (n === 0 || bits === 0) continue
      // The `bits` least frequent of the remaining literals get n bits.
      const chunk = list.slice(remaining - bits, remaining)
      chunk.sort(byLiteral)
      for (const node of chunk) {
        this.code[node.literal] = reverseBits(code, n)
        this.len[node.literal] = n
        code++
      }
      remaining -= bits
    }
  }

  /** generate: the length-limited code for these frequencies (maxBits <= 15). */
  generate(freq: Int32Array, maxBits: number): void {
    const list: LiteralNode[] = []
    for (let i = 0; i < freq.length; i++) {
      const f = freq[i]!
      if (f !== 0) list.push({ literal: i, freq: f })
      else this.len[i] = 0
    }
    if (list.length <= 2) {
      // With two or fewer literals, everything has bit length 1 (list is in literal order).
      list.forEach((node, i) => {
        this.code[node.literal] = i
        this.len[node.literal] = 1
      })
      return
    }
    // Go's sort.Sort is not stable, but byFreq is a total order (ties broken by literal), so any
    // correct sort gives Go's order.
    list.sort(byFreq)
    const bitCount = this.bitCounts(list, maxBits)
    this.assignEncodingAndSize(bitCount, list)
  }
}

function byLiteral(a: LiteralNode, b: LiteralNode): number {
  return a.literal - b.literal
}

function byFreq(a: LiteralNode, b: LiteralNode): number {
  return a.freq === b.freq ? a.literal - b.literal : a.freq - b.freq
}

function generateFixedLiteralEncoding(): HuffmanEncoder {
  const h = new HuffmanEncoder(maxNumLit)
  for (let ch = 0; ch < maxNumLit; ch++) {
    let bits: number
    let size: number
    if (ch < 144) {
      bits = ch + 48 // size 8, 000110000 .. 10111111
      size = 8
    } else if (ch < 256) {
      bits = ch + 400 - 144 // size 9, 110010000 .. 111111111
      size = 9
    } else if (ch < 280) {
      bits = ch - 256 // size 7, 0000000 .. 0010111
      size = 7
    } else {
      bits = ch + 192 - 280 // size 8, 11000000 .. 11000111
      size = 8
    }
    h.code[ch] = reverseBits(bits, size)
    h.len[ch] = size
  }
  return h
}

function generateFixedOffsetEncoding(): HuffmanEncoder {
  const h = new HuffmanEncoder(30)
  for (let ch = 0; ch < 30; ch++) {
    h.code[ch] = reverseBits(ch, 5)
    h.len[ch] = 5
  }
  return h
}

const fixedLiteralEncoding = generateFixedLiteralEncoding()
const fixedOffsetEncoding = generateFixedOffsetEncoding()

// ---------------------------------------------------------------------------------------------
// Output bytes

class ByteSink {
  private buf = new Uint8Array(1024)
  length = 0

  private reserve(extra: number): void {
    if (this.length + extra <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.length + extra) size *= 2
    const grown = new Uint8Array(size)
    grown.set(this.buf.subarray(0, this.length))
    this.buf = grown
  }

  pushByte(b: number): void {
    this.reserve(1)
    this.buf[this.length++] = b
  }

  pushBytes(bytes: Uint8Array): void {
    this.reserve(bytes.length)
    this.buf.set(bytes, this.length)
    this.length += bytes.length
  }

  toBuffer(): Buffer {
    return Buffer.from(this.buf.buffer, this.buf.byteOffset, this.length)
  }
}

// ---------------------------------------------------------------------------------------------
// huffman_bit_writer.go

class HuffmanBitWriter {
  // Go keeps up to 64 bits and writes them out 6 bytes at a time; bits leave LSB first either way,
  // so writing each byte as soon as it is complete yields the same stream.
  private bits = 0
  private nbits = 0
  private readonly codegenFreq = new Int32Array(codegenCodeCount)
  private readonly literalFreq = new Int32Array(maxNumLit)
  private readonly offsetFreq = new Int32Array(offsetCodeCount)
  private readonly codegen = new Uint8Array(maxNumLit + offsetCodeCount + 1)
  private readonly literalEncoding = new HuffmanEncoder(maxNumLit)
  private readonly offsetEncoding = new HuffmanEncoder(offsetCodeCount)
  private readonly codegenEncoding = new HuffmanEncoder(codegenCodeCount)

  constructor(private readonly out: ByteSink) {}

  /** flush: pad the pending bits with zeros to a byte boundary. */
  flush(): void {
    if (this.nbits > 0) this.out.pushByte(this.bits & 0xff)
    this.bits = 0
    this.nbits = 0
  }

  writeBits(b: number, nb: number): void {
    this.bits |= b << this.nbits
    this.nbits += nb
    while (this.nbits >= 8) {
      this.out.pushByte(this.bits & 0xff)
      this.bits >>>= 8
      this.nbits -= 8
    }
  }

  private writeCode(enc: HuffmanEncoder, symbol: number): void {
    this.writeBits(enc.code[symbol]!, enc.len[symbol]!)
  }

  writeBytes(bytes: Uint8Array): void {
    if (this.nbits !== 0) throw new Error('flate: writeBytes with unfinished bits')
    this.out.pushBytes(bytes)
  }

  /**
   * generateCodegen: the run-length encoding (RFC 1951 3.2.7) of the concatenated literal and
   * offset code lengths into `codegen` (terminated by badCode), counting each code in codegenFreq.
   * Go uses `codegen` both as the copy of the lengths and as the output; the output never
   * overtakes the input, so this is safe.
   */
  private generateCodegen(
    numLiterals: number,
    numOffsets: number,
    litEnc: HuffmanEncoder,
    offEnc: HuffmanEncoder
  ): void {
    this.codegenFreq.fill(0)
    const codegen = this.codegen
    for (let i = 0; i < numLiterals; i++) codegen[i] = litEnc.len[i]!
    for (let i = 0; i < numOffsets; i++) codegen[numLiterals + i] = offEnc.len[i]!
    codegen[numLiterals + numOffsets] = badCode

    let size = codegen[0]!
    let count = 1
    let outIndex = 0
    for (let inIndex = 1; size !== badCode; inIndex++) {
      // INVARIANT: we have seen `count` copies of size that have no output yet.
      const nextSize = codegen[inIndex]!
      if (nextSize === size) {
        count++
        continue
      }
      // Generate codegen indicating `count` of size.
      if (size !== 0) {
        codegen[outIndex++] = size
        this.codegenFreq[size]!++
        count--
        while (count >= 3) {
          const n = Math.min(6, count)
          codegen[outIndex++] = 16
          codegen[outIndex++] = n - 3
          this.codegenFreq[16]!++
          count -= n
        }
      } else {
        while (count >= 11) {
          const n = Math.min(138, count)
          codegen[outIndex++] = 18
          codegen[outIndex++] = n - 11
          this.codegenFreq[18]!++
          count -= n
        }
        if (count >= 3) {
          // count >= 3 && count <= 10
          codegen[outIndex++] = 17
          codegen[outIndex++] = count - 3
          this.codegenFreq[17]!++
          count = 0
        }
      }
      count--
      for (; count >= 0; count--) {
        codegen[outIndex++] = size
        this.codegenFreq[size]!++
      }
      // Set up the invariant for the next time through the loop.
      size = nextSize
      count = 1
    }
    codegen[outIndex] = badCode
  }

  /** dynamicSize: size in bits of the block as dynamic Huffman, and how many codegen lengths. */
  private dynamicSize(
    litEnc: HuffmanEncoder,
    offEnc: HuffmanEncoder,
    extraBits: number
  ): { size: number; numCodegens: number } {
    let numCodegens = this.codegenFreq.length
    while (numCodegens > 4 && this.codegenFreq[codegenOrder[numCodegens - 1]!] === 0) {
      numCodegens--
    }
    const header =
      3 +
      5 +
      5 +
      4 +
      3 * numCodegens +
      this.codegenEncoding.bitLength(this.codegenFreq) +
      this.codegenFreq[16]! * 2 +
      this.codegenFreq[17]! * 3 +
      this.codegenFreq[18]! * 7
    const size =
      header + litEnc.bitLength(this.literalFreq) + offEnc.bitLength(this.offsetFreq) + extraBits
    return { size, numCodegens }
  }

  private fixedSize(extraBits: number): number {
    return (
      3 +
      fixedLiteralEncoding.bitLength(this.literalFreq) +
      fixedOffsetEncoding.bitLength(this.offsetFreq) +
      extraBits
    )
  }

  /** storedSize: bits of the block stored, including the header, if it fits in one stored block. */
  private storedSize(input: Uint8Array | null): { size: number; storable: boolean } {
    if (input === null) return { size: 0, storable: false }
    if (input.length <= maxStoreBlockSize) return { size: (input.length + 5) * 8, storable: true }
    return { size: 0, storable: false }
  }

  private writeDynamicHeader(
    numLiterals: number,
    numOffsets: number,
    numCodegens: number,
    isEof: boolean
  ): void {
    this.writeBits(isEof ? 5 : 4, 3)
    this.writeBits(numLiterals - 257, 5)
    this.writeBits(numOffsets - 1, 5)
    this.writeBits(numCodegens - 4, 4)
    for (let i = 0; i < numCodegens; i++) {
      this.writeBits(this.codegenEncoding.len[codegenOrder[i]!]!, 3)
    }
    let i = 0
    for (;;) {
      const codeWord = this.codegen[i++]!
      if (codeWord === badCode) break
      this.writeCode(this.codegenEncoding, codeWord)
      if (codeWord === 16) this.writeBits(this.codegen[i++]!, 2)
      else if (codeWord === 17) this.writeBits(this.codegen[i++]!, 3)
      else if (codeWord === 18) this.writeBits(this.codegen[i++]!, 7)
    }
  }

  writeStoredHeader(length: number, isEof: boolean): void {
    this.writeBits(isEof ? 1 : 0, 3)
    this.flush()
    this.writeBits(length, 16)
    this.writeBits(~length & 0xffff, 16)
  }

  private writeFixedHeader(isEof: boolean): void {
    this.writeBits(isEof ? 3 : 2, 3)
  }

  /**
   * writeBlock: the tokens as the smallest of fixed Huffman, dynamic Huffman, or (when `input`,
   * the bytes they stand for, is given) a stored block.
   */
  writeBlock(blockTokens: readonly number[], eof: boolean, input: Uint8Array | null): void {
    const tokens = [...blockTokens, endBlockMarker]
    const { numLiterals, numOffsets } = this.indexTokens(tokens)

    let extraBits = 0
    const stored = this.storedSize(input)
    if (stored.storable) {
      // The extra bits of lengths and offsets cost the same in fixed and dynamic encoding; they
      // only matter against the stored encoding.
      for (let lc = lengthCodesStart + 8; lc < numLiterals; lc++) {
        // The first eight length codes have no extra bits.
        extraBits += this.literalFreq[lc]! * lengthExtraBits[lc - lengthCodesStart]!
      }
      for (let oc = 4; oc < numOffsets; oc++) {
        // The first four offset codes have no extra bits.
        extraBits += this.offsetFreq[oc]! * offsetExtraBits[oc]!
      }
    }

    // Fixed Huffman baseline.
    let literalEncoding = fixedLiteralEncoding
    let offsetEncoding = fixedOffsetEncoding
    let size = this.fixedSize(extraBits)

    // Dynamic Huffman?
    this.generateCodegen(numLiterals, numOffsets, this.literalEncoding, this.offsetEncoding)
    this.codegenEncoding.generate(this.codegenFreq, 7)
    const dynamic = this.dynamicSize(this.literalEncoding, this.offsetEncoding, extraBits)
    if (dynamic.size < size) {
      size = dynamic.size
      literalEncoding = this.literalEncoding
      offsetEncoding = this.offsetEncoding
    }

    // Stored bytes?
    if (input !== null && stored.storable && stored.size < size) {
      this.writeStoredHeader(input.length, eof)
      this.writeBytes(input)
      return
    }

    if (literalEncoding === fixedLiteralEncoding) this.writeFixedHeader(eof)
    else this.writeDynamicHeader(numLiterals, numOffsets, dynamic.numCodegens, eof)
    this.writeTokens(tokens, literalEncoding, offsetEncoding)
  }

  /**
   * indexTokens: count literal/length and offset codes, build both dynamic encodings, and return
   * how many of each code the block header must describe.
   */
  private indexTokens(tokens: readonly number[]): { numLiterals: number; numOffsets: number } {
    this.literalFreq.fill(0)
    this.offsetFreq.fill(0)
    for (const t of tokens) {
      if (t < matchType) {
        this.literalFreq[t]!++
        continue
      }
      this.literalFreq[lengthCodesStart + lengthCode(tokenLength(t))]!++
      this.offsetFreq[offsetCode(tokenOffset(t))]!++
    }

    let numLiterals = this.literalFreq.length
    while (this.literalFreq[numLiterals - 1] === 0) numLiterals--
    let numOffsets = this.offsetFreq.length
    while (numOffsets > 0 && this.offsetFreq[numOffsets - 1] === 0) numOffsets--
    if (numOffsets === 0) {
      // No match at all: count one offset so that a dynamic offset tree can still be encoded.
      this.offsetFreq[0] = 1
      numOffsets = 1
    }
    this.literalEncoding.generate(this.literalFreq, 15)
    this.offsetEncoding.generate(this.offsetFreq, 15)
    return { numLiterals, numOffsets }
  }

  private writeTokens(
    tokens: readonly number[],
    leCodes: HuffmanEncoder,
    oeCodes: HuffmanEncoder
  ): void {
    for (const t of tokens) {
      if (t < matchType) {
        this.writeCode(leCodes, t)
        continue
      }
      const length = tokenLength(t)
      const lc = lengthCode(length)
      this.writeCode(leCodes, lc + lengthCodesStart)
      const extraLengthBits = lengthExtraBits[lc]!
      if (extraLengthBits > 0) this.writeBits(length - lengthBase[lc]!, extraLengthBits)

      const offset = tokenOffset(t)
      const oc = offsetCode(offset)
      this.writeCode(oeCodes, oc)
      const extraOffsetBits = offsetExtraBits[oc]!
      if (extraOffsetBits > 0) this.writeBits(offset - offsetBase[oc]!, extraOffsetBits)
    }
  }
}

// ---------------------------------------------------------------------------------------------
// deflate.go: the compressor, level 6 only

const hashmul = 0x1e35a7bd

/** hash4: a hash of the 4 bytes at window[i..i+3], read big-endian. */
function hash4(b: Uint8Array, i: number): number {
  const v = (b[i + 3]! | (b[i + 2]! << 8) | (b[i + 1]! << 16) | (b[i]! << 24)) >>> 0
  return Math.imul(v, hashmul) >>> (32 - hashBits)
}

/** matchLen: how many bytes of a[ai..] and b[bi..] agree, up to max. */
function matchLen(win: Uint8Array, ai: number, bi: number, max: number): number {
  for (let i = 0; i < max; i++) {
    if (win[ai + i] !== win[bi + i]) return i
  }
  return max
}

class Compressor {
  private readonly w: HuffmanBitWriter
  private sync = false // requesting flush

  // Input hash chains: hashHead[hash] is the largest input index (+ hashOffset) with that hash;
  // hashPrev[index & windowMask] links to the previous index with the same hash.
  private chainHead = -1
  private readonly hashHead = new Uint32Array(hashSize)
  private readonly hashPrev = new Uint32Array(windowSize)
  private hashOffset = 1

  // Input window: unprocessed data is window[index:windowEnd].
  private index = 0
  private readonly window = new Uint8Array(2 * windowSize)
  private windowEnd = 0
  private blockStart = 0 // window index where the current tokens start
  private byteAvailable = false // if true, window[index-1] still needs to be emitted

  private tokens: number[] = []

  // deflate state
  private length = minMatchLength - 1
  private offset = 0
  private maxInsertIndex = 0

  constructor(out: ByteSink) {
    this.w = new HuffmanBitWriter(out)
  }

  /** fillDeflate: slide the window by windowSize when the lookahead runs out, then copy in. */
  private fill(b: Uint8Array): number {
    if (this.index >= 2 * windowSize - (minMatchLength + maxMatchLength)) {
      this.window.copyWithin(0, windowSize, 2 * windowSize)
      this.index -= windowSize
      this.windowEnd -= windowSize
      if (this.blockStart >= windowSize) this.blockStart -= windowSize
      else this.blockStart = maxInt32
      this.hashOffset += windowSize
      if (this.hashOffset > maxHashOffset) {
        const delta = this.hashOffset - 1
        this.hashOffset -= delta
        this.chainHead -= delta
        for (let i = 0; i < this.hashPrev.length; i++) {
          const v = this.hashPrev[i]!
          this.hashPrev[i] = v > delta ? v - delta : 0
        }
        for (let i = 0; i < this.hashHead.length; i++) {
          const v = this.hashHead[i]!
          this.hashHead[i] = v > delta ? v - delta : 0
        }
      }
    }
    const n = Math.min(b.length, this.window.length - this.windowEnd)
    this.window.set(b.subarray(0, n), this.windowEnd)
    this.windowEnd += n
    return n
  }

  private writeBlock(tokens: readonly number[], index: number): void {
    if (index > 0) {
      // Without the block's input (slid out of the window) it cannot be stored.
      const input = this.blockStart <= index ? this.window.subarray(this.blockStart, index) : null
      this.blockStart = index
      this.w.writeBlock(tokens, false, input)
    }
  }

  /** findMatch: a match at pos longer than prevLength, looking at `chain` candidates at most. */
  private findMatch(
    pos: number,
    prevHead: number,
    prevLength: number,
    lookahead: number
  ): { length: number; offset: number; ok: boolean } {
    const win = this.window
    const minMatchLook = Math.min(maxMatchLength, lookahead)
    // Go slices win = window[0:pos+minMatchLook]; we quit on a match at least `nice` long.
    const nice = Math.min(levelNice, minMatchLook)

    // If we've got a match that's good enough, only look in 1/4 the chain.
    let tries = levelChain
    let length = prevLength
    let offset = 0
    let ok = false
    if (length >= levelGood) tries >>= 2

    let wEnd = win[pos + length]!
    const minIndex = pos - windowSize

    for (let i = prevHead; tries > 0; tries--) {
      if (wEnd === win[i + length]) {
        const n = matchLen(win, i, pos, minMatchLook)
        if (n > length && (n > minMatchLength || pos - i <= 4096)) {
          length = n
          offset = pos - i
          ok = true
          // The match is good enough that we don't try to find a better one.
          if (n >= nice) break
          wEnd = win[pos + n]!
        }
      }
      // hashPrev[i & windowMask] has already been overwritten, so stop now.
      if (i === minIndex) break
      i = this.hashPrev[i & windowMask]! - this.hashOffset
      if (i < minIndex || i < 0) break
    }
    return { length, offset, ok }
  }

  private insertHash(index: number): void {
    const hash = hash4(this.window, index)
    const hh = hash & hashMask
    this.hashPrev[index & windowMask] = this.hashHead[hh]!
    this.hashHead[hh] = index + this.hashOffset
  }

  /** deflate: lazy matching over window[index:windowEnd] (the fastSkipHashing == skipNever path). */
  private deflate(): void {
    if (this.windowEnd - this.index < minMatchLength + maxMatchLength && !this.sync) return

    this.maxInsertIndex = this.windowEnd - (minMatchLength - 1)

    for (;;) {
      const lookahead = this.windowEnd - this.index
      if (lookahead < minMatchLength + maxMatchLength) {
        if (!this.sync) break
        if (lookahead === 0) {
          // Flush the current output block, with the one pending literal if any.
          if (this.byteAvailable) {
            this.tokens.push(literalToken(this.window[this.index - 1]!))
            this.byteAvailable = false
          }
          if (this.tokens.length > 0) {
            this.writeBlock(this.tokens, this.index)
            this.tokens = []
          }
          break
        }
      }
      if (this.index < this.maxInsertIndex) {
        // Update the hash
        const hash = hash4(this.window, this.index)
        const hh = hash & hashMask
        this.chainHead = this.hashHead[hh]!
        this.hashPrev[this.index & windowMask] = this.chainHead
        this.hashHead[hh] = this.index + this.hashOffset
      }
      const prevLength = this.length
      const prevOffset = this.offset
      this.length = minMatchLength - 1
      this.offset = 0
      const minIndex = Math.max(this.index - windowSize, 0)

      if (
        this.chainHead - this.hashOffset >= minIndex &&
        lookahead > prevLength &&
        prevLength < levelLazy
      ) {
        const found = this.findMatch(
          this.index,
          this.chainHead - this.hashOffset,
          minMatchLength - 1,
          lookahead
        )
        if (found.ok) {
          this.length = found.length
          this.offset = found.offset
        }
      }
      if (prevLength >= minMatchLength && this.length <= prevLength) {
        // There was a match at the previous step, and the current match is not better: emit it.
        this.tokens.push(matchToken(prevLength - baseMatchLength, prevOffset - baseMatchOffset))
        // Insert in the hash table all strings up to the end of the match. index and index-1
        // are already inserted. If there is not enough lookahead, the last two strings are not
        // inserted into the hash table.
        const newIndex = this.index + prevLength - 1
        let index = this.index
        for (index++; index < newIndex; index++) {
          if (index < this.maxInsertIndex) this.insertHash(index)
        }
        this.index = index
        this.byteAvailable = false
        this.length = minMatchLength - 1
        if (this.tokens.length === maxFlateBlockTokens) {
          // The block includes the current character.
          this.writeBlock(this.tokens, this.index)
          this.tokens = []
        }
      } else {
        if (this.byteAvailable) {
          const i = this.index - 1
          this.tokens.push(literalToken(this.window[i]!))
          if (this.tokens.length === maxFlateBlockTokens) {
            this.writeBlock(this.tokens, i + 1)
            this.tokens = []
          }
        }
        this.index++
        this.byteAvailable = true
      }
    }
  }

  write(data: Uint8Array): void {
    let b = data
    while (b.length > 0) {
      this.deflate()
      b = b.subarray(this.fill(b))
    }
  }

  /** close: flush everything, then the final empty stored block Go always ends with. */
  close(): void {
    this.sync = true
    this.deflate()
    this.w.writeStoredHeader(0, true)
    this.w.flush()
  }
}

// ---------------------------------------------------------------------------------------------
// gzip.go

const crcTable = buildCrcTable()

function buildCrcTable(): Uint32Array {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    table[n] = c >>> 0
  }
  return table
}

/** CRC-32, IEEE polynomial, as hash/crc32.IEEETable. */
function crc32(data: Uint8Array): number {
  let crc = 0xffffffff
  for (let i = 0; i < data.length; i++) crc = crcTable[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}

/**
 * The bytes of Go's `w := gzip.NewWriter(&buf); w.Write(data); w.Close()`: a 10-byte header with
 * no name, mtime 0, XFL 0 and OS 255 (unknown), the deflate stream at DefaultCompression, then
 * the CRC-32 and the size mod 2^32, little-endian.
 *
 * One Write call matters: Go's output depends on how the input is split across Writes, and
 * volantd's pluginspec.Encode writes the marshalled manifest in one call.
 */
export function goGzip(data: Uint8Array): Buffer {
  const out = new ByteSink()
  out.pushBytes(Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255))
  const compressor = new Compressor(out)
  compressor.write(data)
  compressor.close()
  const trailer = Buffer.alloc(8)
  trailer.writeUInt32LE(crc32(data), 0)
  trailer.writeUInt32LE(data.length % 2 ** 32, 4)
  out.pushBytes(trailer)
  return out.toBuffer()
}
