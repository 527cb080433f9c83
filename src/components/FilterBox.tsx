/**
 * The filter box of the Runs section: MLflow's search syntax, applied on Enter,
 * and MLflow's own message underneath when the server refuses the filter.
 */
import React, { useEffect, useState } from 'react';
import type { TranslationBundle } from '@jupyterlab/translation';

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
  const [text, setText] = useState(props.filter);
  // Follow the filter in effect when it changes elsewhere (another experiment).
  useEffect(() => setText(props.filter), [props.filter]);

  return (
    <div className="jp-MlopsLab-filter">
      <input
        className="jp-MlopsLab-filterInput jp-mod-styled"
        type="search"
        aria-label={trans.__('Filter runs (MLflow search syntax)')}
        placeholder="metrics.accuracy > 0.9 and params.C = '1.0'"
        title={trans.__(
          "A filter in MLflow's search syntax; press Enter to apply"
        )}
        spellCheck={false}
        value={text}
        onChange={event => setText(event.currentTarget.value)}
        onKeyDown={event => {
          if (event.key === 'Enter') {
            event.preventDefault();
            props.onApply(text);
          } else if (event.key === 'Escape' && text) {
            event.preventDefault();
            setText('');
            props.onApply('');
          }
        }}
      />
      {props.error !== null && (
        <div className="jp-MlopsLab-filterError" role="alert">
          {props.error}
        </div>
      )}
    </div>
  );
}
