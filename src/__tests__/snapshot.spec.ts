/**
 * A run's notebook snapshot opens read-only: every cell is marked non-editable,
 * and content that is not a notebook is refused with a message.
 */
import { nullTranslator } from '@jupyterlab/translation';

import { readOnlyContent } from '../snapshot';

const trans = nullTranslator.load('mlops_lab');

const NOTEBOOK = {
  nbformat: 4,
  nbformat_minor: 5,
  metadata: {},
  cells: [
    { cell_type: 'markdown', metadata: {}, source: '# Title' },
    {
      cell_type: 'code',
      metadata: { tags: ['train'] },
      source: 'x = 1',
      outputs: [],
      execution_count: 1
    }
  ]
};

describe('readOnlyContent', () => {
  it('marks every cell non-editable and keeps its other metadata', () => {
    const content = readOnlyContent(NOTEBOOK, trans);
    expect(content.cells.map(cell => cell.metadata.editable)).toEqual([
      false,
      false
    ]);
    expect(content.cells[1].metadata.tags).toEqual(['train']);
    // The server's JSON is not modified in place.
    expect(NOTEBOOK.cells[0].metadata).toEqual({});
  });

  it('refuses what is not a notebook', () => {
    expect(() => readOnlyContent({ path: 'x.txt' }, trans)).toThrow(
      'The snapshot logged with this run is not a notebook.'
    );
  });
});
