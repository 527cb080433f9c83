/**
 * The token stack behind Next/Previous and the sort toggle of column headers.
 */
import { PageTokenStack } from '../runs/pagination';
import {
  ISort,
  orderByClause,
  sortIndicator,
  toggleSort
} from '../runs/sorting';

describe('PageTokenStack', () => {
  it('walks forward with the next tokens and back to the first page', () => {
    const stack = new PageTokenStack();
    expect(stack.current).toBeUndefined();
    expect(stack.canGoBack).toBe(false);
    expect(stack.pageIndex).toBe(0);

    expect(stack.next('t1')).toBe('t1');
    expect(stack.next('t2')).toBe('t2');
    expect(stack.current).toBe('t2');
    expect(stack.pageIndex).toBe(2);

    expect(stack.previous()).toBe('t1');
    expect(stack.pageIndex).toBe(1);
    expect(stack.canGoBack).toBe(true);
    expect(stack.previous()).toBeUndefined();
    expect(stack.canGoBack).toBe(false);
    // Previous on the first page stays there.
    expect(stack.previous()).toBeUndefined();
    expect(stack.pageIndex).toBe(0);
  });

  it('starts over on reset', () => {
    const stack = new PageTokenStack();
    stack.next('a');
    stack.next('b');
    stack.reset();
    expect(stack.current).toBeUndefined();
    expect(stack.pageIndex).toBe(0);
  });
});

describe('toggleSort', () => {
  it('sorts a new metric from the highest, a new param from the lowest', () => {
    expect(toggleSort(null, 'metrics', 'accuracy')).toEqual({
      kind: 'metrics',
      key: 'accuracy',
      direction: 'DESC'
    });
    expect(toggleSort(null, 'params', 'C').direction).toBe('ASC');
  });

  it('flips the direction of the sorted column and resets on another', () => {
    const first = toggleSort(null, 'metrics', 'accuracy');
    const second = toggleSort(first, 'metrics', 'accuracy');
    expect(second.direction).toBe('ASC');
    expect(toggleSort(second, 'metrics', 'accuracy').direction).toBe('DESC');
    // Same key, other kind: a different column.
    expect(toggleSort(second, 'params', 'accuracy')).toEqual({
      kind: 'params',
      key: 'accuracy',
      direction: 'ASC'
    });
    expect(toggleSort(second, 'metrics', 'loss').direction).toBe('DESC');
  });
});

describe('orderByClause', () => {
  it('writes MLflow order-by clauses, quoting keys that are not identifiers', () => {
    expect(orderByClause(null)).toBeUndefined();
    expect(
      orderByClause({ kind: 'metrics', key: 'accuracy', direction: 'DESC' })
    ).toBe('metrics.accuracy DESC');
    expect(
      orderByClause({ kind: 'params', key: 'model.C', direction: 'ASC' })
    ).toBe('params.`model.C` ASC');
    expect(
      orderByClause({ kind: 'metrics', key: 'val loss', direction: 'ASC' })
    ).toBe('metrics.`val loss` ASC');
  });
});

describe('sortIndicator', () => {
  const sort: ISort = { kind: 'metrics', key: 'accuracy', direction: 'ASC' };
  it('marks only the sorted column', () => {
    expect(sortIndicator(sort, 'metrics', 'accuracy')).toBe('▲');
    expect(
      sortIndicator({ ...sort, direction: 'DESC' }, 'metrics', 'accuracy')
    ).toBe('▼');
    expect(sortIndicator(sort, 'params', 'accuracy')).toBe('');
    expect(sortIndicator(null, 'metrics', 'accuracy')).toBe('');
  });
});
