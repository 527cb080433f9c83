/**
 * The filter box of the Runs section: MLflow's search syntax, applied on Enter,
 * and MLflow's own message underneath when the server refuses the filter.
 */
import React from 'react';
import type { TranslationBundle } from '@jupyterlab/translation';

import { SearchInput } from './SearchInput';

export interface IFilterBoxProps {
  /** The filter in effect. */
  filter: string;
  /** The server's message for the last filter or order refused, if any. */
  error: string | null;
  trans: TranslationBundle;
  onApply: (filter: string) => void;
}

export function FilterBox(props: IFilterBoxProps): JSX.Element {
  const { trans } = props;
  return (
    <div className="jp-MlopsLab-filter">
      <SearchInput
        className="jp-MlopsLab-filterInput"
        label={trans.__('Filter runs (MLflow search syntax)')}
        placeholder="metrics.accuracy > 0.9 and params.C = '1.0'"
        title={trans.__(
          "A filter in MLflow's search syntax; press Enter to apply"
        )}
        value={props.filter}
        onSubmit={props.onApply}
      />
      {props.error !== null && (
        <div className="jp-MlopsLab-filterError" role="alert">
          {props.error}
        </div>
      )}
    </div>
  );
}
