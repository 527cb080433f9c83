/**
 * Sizes as the run details write them: 3 significant digits, decimal units.
 */
import { formatBytes } from '../runs/format';

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [512, '512 B'],
    [999, '999 B'],
    [1000, '1 kB'],
    [46_231, '46.2 kB'],
    [46_200_000, '46.2 MB'],
    [123_456_789, '123 MB'],
    [1_500_000_000, '1.5 GB'],
    [2.5e12, '2.5 TB'],
    [3e15, '3000 TB']
  ])('writes %d bytes as %s', (bytes, shown) => {
    expect(formatBytes(bytes)).toBe(shown);
  });

  it('moves to the next unit when rounding reaches 1000', () => {
    expect(formatBytes(999_950)).toBe('1 MB');
    expect(formatBytes(999_499)).toBe('999 kB');
  });

  it.each([null, undefined, NaN, -1])('writes nothing for %p', bytes => {
    expect(formatBytes(bytes)).toBe('');
  });
});
