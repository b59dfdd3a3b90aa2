/** Beyond this many ids the list would cost more memory than the sort it saves: stop tracking. */
const MAX_IDS = 8 * 1024 * 1024;

/**
 * Tells whether an import file gives some id twice, from a 52-bit hash of each id's UTF-8 bytes.
 * The hashes are appended to a flat list (cheap, and kind to the cache while the file is being
 * read) and sorted once at the end; equal neighbours mean "maybe". A "maybe" (a real duplicate,
 * two ids hashing alike, or too many ids to track) makes the apply deduplicate with a sort,
 * which is always right, merely slower; without duplicates that sort is skipped.
 */
export class IdHashes {
  private hashes = new Float64Array(1 << 16);
  private count = 0;
  private overflow = false;

  /** Records the id held in `bytes[start, end)`. */
  addBytes(bytes: Uint8Array, start: number, end: number): void {
    if (this.overflow) return;
    let h1 = 0x811c9dc5;
    let h2 = 0x2545f491;
    for (let i = start; i < end; i++) {
      const c = bytes[i] as number;
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
      h2 ^= h2 >>> 15;
    }
    // Final mixing, so that ids differing in their last byte differ in every bit.
    const a = fmix(h1 ^ Math.imul(h2, 0x27d4eb2d));
    const b = fmix(h2 + a);
    if (this.count === this.hashes.length) {
      if (this.count >= MAX_IDS) {
        this.overflow = true;
        this.hashes = new Float64Array(0);
        return;
      }
      const more = new Float64Array(this.count * 2);
      more.set(this.hashes);
      this.hashes = more;
    }
    // 32 + 20 bits: an integer a double holds exactly.
    this.hashes[this.count++] = (a >>> 0) * 0x100000 + (b >>> 12);
  }

  /** Records an id given as text (hashed over the same UTF-8 bytes as addBytes). */
  addString(id: string): void {
    if (this.overflow) return;
    const bytes = Buffer.from(id, 'utf8');
    this.addBytes(bytes, 0, bytes.length);
  }

  /** Whether some id may have been given twice (sorts the hashes: call once, at the end). */
  maybeDuplicates(): boolean {
    if (this.overflow) return true;
    const sorted = this.hashes.subarray(0, this.count).sort();
    for (let i = 1; i < sorted.length; i++) if (sorted[i] === sorted[i - 1]) return true;
    return false;
  }
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
