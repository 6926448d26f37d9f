import { formatFixed, formatRate, formatSigned, formatWords } from '../../src/experiment/format';

describe('formatFixed', () => {
  it.each([
    [13 / 32, 4, '0.4062'], // 0.40625: exact half, 2 is even
    [11 / 32, 4, '0.3438'], // 0.34375: exact half, 7 is odd
    [1 / 32, 4, '0.0312'], // 0.03125
    [0.15625, 4, '0.1562'],
    [-0.0234375, 4, '-0.0234'],
    [9.96, 1, '10.0'], // carries into the integer part
    [0.5, 0, '0'],
    [1.5, 0, '2'],
    [2.5, 0, '2'],
    [9.5, 0, '10'],
    [0.125, 2, '0.12'],
    [0.375, 2, '0.38'],
    [1.005, 2, '1.00'], // the double is just below 1.005
    [2.675, 2, '2.67'], // the double is just below 2.675
    [0.1 + 0.2, 4, '0.3000'],
    [0, 4, '0.0000'],
    [1, 4, '1.0000'],
    [0.99995, 4, '1.0000'], // the double is just above 0.99995: carries through every digit
    [0.99985, 4, '0.9999'], // just above 0.99985
    [123.456, 1, '123.5'],
  ])('formatFixed(%p, %p) = %p', (x, digits, expected) => {
    expect(formatFixed(x, digits)).toBe(expected);
  });

  it('keeps the sign of negative values that round to zero, as Python does', () => {
    expect(formatFixed(-0.00001, 4)).toBe('-0.0000');
    expect(formatFixed(-0, 4)).toBe('-0.0000');
  });

  it('prints non-finite values as they are', () => {
    expect(formatFixed(NaN, 4)).toBe('NaN');
    expect(formatFixed(Infinity, 4)).toBe('Infinity');
  });
});

describe('formatSigned', () => {
  it('adds a plus sign to non-negative values', () => {
    expect(formatSigned(0.1015625)).toBe('+0.1016');
    expect(formatSigned(0)).toBe('+0.0000');
    expect(formatSigned(1 / 3)).toBe('+0.3333');
  });

  it('keeps the minus sign of negative values', () => {
    expect(formatSigned(-0.0234375)).toBe('-0.0234');
    expect(formatSigned(-1 / 6)).toBe('-0.1667');
  });

  it('prints n/a for null', () => {
    expect(formatSigned(null)).toBe('n/a');
  });
});

describe('formatRate and formatWords', () => {
  it('formatRate uses 4 decimals and n/a for null', () => {
    expect(formatRate(13 / 32)).toBe('0.4062');
    expect(formatRate(null)).toBe('n/a');
  });

  it('formatWords uses 1 decimal rounding half to even', () => {
    expect(formatWords(11.5)).toBe('11.5');
    expect(formatWords(11.25)).toBe('11.2');
    expect(formatWords(11.75)).toBe('11.8');
    expect(formatWords(null)).toBe('n/a');
  });
});
