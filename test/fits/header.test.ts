import { describe, expect, it } from 'vitest';
import { formatCard, parseCard, parseCards } from '../../src/fits/card.ts';
import { FitsError } from '../../src/fits/errors.ts';
import { Header } from '../../src/fits/header.ts';

const card = (s: string) => s.padEnd(80, ' ');

describe('card parsing', () => {
  it('reads strings with doubled quotes and drops trailing blanks', () => {
    const c = parseCard(card("OBJECT  = 'O''Brien   '         / the target"));
    expect(c).toMatchObject({
      kind: 'value',
      key: 'OBJECT',
      value: "O'Brien",
      comment: 'the target',
    });
  });

  it('keeps leading blanks of strings and reads the empty string', () => {
    expect(
      parseCard(card("A       = '  x'")).kind === 'value' && parseCard(card("A       = '  x'")),
    ).toMatchObject({ value: '  x' });
    expect(parseCard(card("A       = ''"))).toMatchObject({ value: '' });
  });

  it('reads logicals, integers, floats with D exponents, complex and undefined values', () => {
    expect(parseCard(card('SIMPLE  =                    T'))).toMatchObject({ value: true });
    expect(parseCard(card('FLAG    =                    F / no'))).toMatchObject({
      value: false,
      comment: 'no',
    });
    expect(parseCard(card('NAXIS1  =                 4096'))).toMatchObject({ value: 4096 });
    expect(parseCard(card('NEG     =                  -12'))).toMatchObject({ value: -12 });
    expect(parseCard(card('BIG     =  9223372036854775807'))).toMatchObject({
      value: 9223372036854775807n,
    });
    expect(parseCard(card('EXPD    =             1.5D+03'))).toMatchObject({ value: 1500 });
    expect(parseCard(card('EXPE    =            -2.5E-07'))).toMatchObject({ value: -2.5e-7 });
    expect(parseCard(card('CPLX    = (1.5, -2.0)'))).toMatchObject({ value: { re: 1.5, im: -2 } });
    expect(parseCard(card('UNDEF   =                      / nothing'))).toMatchObject({
      value: null,
      comment: 'nothing',
    });
  });

  it('reads HIERARCH keys and commentary cards', () => {
    expect(parseCard(card("HIERARCH ESO DET CHIP NAME = 'CCD-44' / chip"))).toMatchObject({
      key: 'ESO DET CHIP NAME',
      value: 'CCD-44',
      hierarch: true,
    });
    expect(parseCard(card('COMMENT   this is a comment'))).toEqual({
      kind: 'commentary',
      key: 'COMMENT',
      text: '  this is a comment',
    });
    expect(parseCard(card('HISTORY step 1'))).toEqual({
      kind: 'commentary',
      key: 'HISTORY',
      text: 'step 1',
    });
    expect(parseCard(card(''))).toEqual({ kind: 'commentary', key: '', text: '' });
  });

  it('joins CONTINUE long strings', () => {
    const cards = parseCards([
      card("LONG    = 'abc&'  / first"),
      card("CONTINUE  'def&'"),
      card("CONTINUE  'ghi' / last"),
      card('NEXT    =                    1'),
    ]);
    expect(cards).toHaveLength(2);
    expect(cards[0]).toMatchObject({ value: 'abcdefghi', comment: 'first last' });
  });

  it('marks unparseable values and throws on access', () => {
    const h = Header.fromCardImages([card('BAD     = 12abc')]);
    expect(h.has('BAD')).toBe(true);
    expect(() => h.get('BAD')).toThrow(FitsError);
  });
});

describe('card formatting', () => {
  it('writes fixed-format values right-justified to column 30', () => {
    expect(
      formatCard({ kind: 'value', key: 'NAXIS', value: 2, comment: '', hierarch: false }),
    ).toEqual([card('NAXIS   =                    2')]);
    expect(
      formatCard({ kind: 'value', key: 'BSCALE', value: 0.5, comment: 'scale', hierarch: false }),
    ).toEqual([card('BSCALE  =                  0.5 / scale')]);
    expect(
      formatCard({ kind: 'value', key: 'X', value: 1e-30, comment: '', hierarch: false }),
    ).toEqual([card('X       =              1.0E-30')]);
  });

  it('pads short strings to 8 characters and escapes quotes', () => {
    expect(
      formatCard({ kind: 'value', key: 'S', value: "it's", comment: '', hierarch: false }),
    ).toEqual([card("S       = 'it''s   '")]);
  });

  it('splits long strings over CONTINUE cards and reads them back', () => {
    const value = `${'x'.repeat(100)}'${'y'.repeat(60)}`;
    const images = formatCard({
      kind: 'value',
      key: 'LONGSTR',
      value,
      comment: 'c',
      hierarch: false,
    });
    expect(images.length).toBeGreaterThan(2);
    for (const im of images) expect(im).toHaveLength(80);
    expect(images[1]!.startsWith("CONTINUE  '")).toBe(true);
    expect(parseCards(images)[0]).toMatchObject({ value, comment: 'c' });
  });

  it('writes HIERARCH for long keys', () => {
    const images = formatCard({
      kind: 'value',
      key: 'ESO TEL AIRM START',
      value: 1.25,
      comment: '',
      hierarch: true,
    });
    expect(images[0]).toBe(card('HIERARCH ESO TEL AIRM START = 1.25'));
  });
});

describe('Header', () => {
  it('gets values case-insensitively and typed', () => {
    const h = new Header();
    h.set('EXPTIME', 30.5, 'seconds');
    h.set('object', 'M31');
    h.set('ESO DET NDIT', 5);
    h.set('BIGINT', 2n ** 60n);
    expect(h.get('exptime')).toBe(30.5);
    expect(h.getNumber('EXPTIME')).toBe(30.5);
    expect(h.getString('OBJECT')).toBe('M31');
    expect(h.get('HIERARCH ESO DET NDIT')).toBe(5);
    expect(h.get('eso det ndit')).toBe(5);
    expect(h.get('BIGINT')).toBe(2n ** 60n);
    expect(h.getComment('EXPTIME')).toBe('seconds');
    expect(h.get('MISSING')).toBeUndefined();
    expect(() => h.getNumber('OBJECT')).toThrow(/expected a number/);
  });

  it('updates in place, keeps comments, deletes, and records COMMENT/HISTORY', () => {
    const h = new Header();
    h.set('A', 1, 'first');
    h.set('B', 2);
    h.set('A', 3);
    expect(h.keys()).toEqual(['A', 'B']);
    expect(h.getComment('A')).toBe('first');
    h.addComment('hello');
    h.addHistory('made by test');
    h.set('HISTORY', 'again');
    expect(h.comments).toEqual(['hello']);
    expect(h.history).toEqual(['made by test', 'again']);
    expect(h.delete('a')).toBe(true);
    expect(h.has('A')).toBe(false);
    expect([...h].map((c) => c.key)).toEqual(['B', 'COMMENT', 'HISTORY', 'HISTORY']);
  });

  it('round-trips through card images, including complex, bigint and CONTINUE', () => {
    const h = new Header();
    h.set('SIMPLE', true);
    h.set('C', { re: 1.5, im: -0.25 });
    h.set('K', -(2n ** 62n));
    h.set('F', 6.02214076e23);
    h.set('S', 'q'.repeat(150));
    h.set('LONG KEYWORD', 'hierarch');
    const bytes = h.toBytes();
    expect(bytes.length % 2880).toBe(0);
    const back = Header.fromCardImages(
      h.toCardImages().filter((line) => !line.startsWith('END     ')),
    );
    expect(back.get('C')).toEqual({ re: 1.5, im: -0.25 });
    expect(back.get('K')).toBe(-(2n ** 62n));
    expect(back.get('F')).toBe(6.02214076e23);
    expect(back.get('S')).toBe('q'.repeat(150));
    expect(back.get('long keyword')).toBe('hierarch');
  });

  it('refuses NaN, infinities and non-ASCII text', () => {
    const h = new Header();
    expect(() => h.set('X', Number.NaN)).toThrow(
      expect.objectContaining({ code: 'FITS_BAD_VALUE' }),
    );
    expect(() => h.set('X', Number.POSITIVE_INFINITY)).toThrow(FitsError);
    expect(() => h.set('X', 'naïve')).toThrow(
      expect.objectContaining({ code: 'FITS_BAD_VALUE', key: 'X' }),
    );
  });

  it('setReal writes integral reals with a decimal point', () => {
    const h = new Header();
    h.setReal('BSCALE', 1);
    expect(h.toCardImages()[0]).toBe(card('BSCALE  =                  1.0'));
  });
});
