/**
 * PLIO_1 decoding: IRAF pixel-list line lists (as CFITSIO's `pl_l2pi`). Each tile is an
 * array of 16-bit words: a header (old 3-word or new 7-word form) followed by
 * instructions (4-bit opcode, 12-bit data) that emit runs of zeros or of the current
 * pixel value.
 */

/** Thrown for a corrupt line list; the caller wraps it into a FitsError. */
export class PlioError extends Error {}

/** Decodes a line list (`words`, signed 16-bit) into `npix` pixels of `out`. */
export function plioDecode(words: Int16Array, out: Int32Array, npix: number): void {
  if (words.length < 3) throw new PlioError('line list shorter than its header');
  let lllen: number;
  let first: number;
  if (words[2]! > 0) {
    lllen = words[2]!;
    first = 3;
  } else {
    if (words.length < 5) throw new PlioError('line list shorter than its header');
    lllen = (words[4]! << 15) + words[3]!;
    first = words[1]!;
  }
  if (lllen > words.length || first < 0) throw new PlioError('line list length exceeds the data');
  let op = 0;
  out.fill(0, 0, npix);
  if (npix <= 0 || lllen <= 0) return;
  const xe = npix; // 1-based last pixel
  let x1 = 1;
  let pv = 1;
  for (let ip = first; ip < lllen; ip++) {
    const word = words[ip]!;
    const opcode = Math.trunc(word / 4096);
    const data = word & 4095;
    switch (opcode) {
      case 0:
      case 4:
      case 5: {
        const x2 = x1 + data - 1;
        const i1 = Math.max(x1, 1);
        const i2 = Math.min(x2, xe);
        const np = i2 - i1 + 1;
        if (np > 0) {
          const otop = op + np - 1;
          if (opcode === 4) out.fill(pv, op, otop + 1);
          else {
            out.fill(0, op, otop + 1);
            if (opcode === 5 && i2 === x2) out[otop] = pv;
          }
          op = otop + 1;
        }
        x1 = x2 + 1;
        break;
      }
      case 1:
        if (ip + 1 >= lllen) throw new PlioError('line list ends inside an instruction');
        pv = (words[ip + 1]! << 12) + data;
        ip++;
        break;
      case 2:
        pv += data;
        break;
      case 3:
        pv -= data;
        break;
      case 6:
      case 7:
        pv += opcode === 6 ? data : -data;
        if (x1 >= 1 && x1 <= xe) out[op++] = pv;
        x1++;
        break;
      default:
        break;
    }
    if (x1 > xe) break;
  }
}
