/**
 * The explorer's column picker: a checkbox per param and metric of the page.
 */
import React from 'react';
import type { TranslationBundle } from '@jupyterlab/translation';

import type { IColumnChoice } from '../runs/columns';

export interface IColumnPickerProps {
  paramKeys: string[];
  metricKeys: string[];
  /** The columns shown. */
  shown: IColumnChoice;
  trans: TranslationBundle;
  onToggle: (kind: keyof IColumnChoice, key: string) => void;
}

export function ColumnPicker(props: IColumnPickerProps): JSX.Element {
  const { trans, shown } = props;
  const group = (
    kind: keyof IColumnChoice,
    title: string,
    keys: string[]
  ): JSX.Element | null =>
    keys.length === 0 ? null : (
      <fieldset className="jp-MlopsLab-columnGroup">
        <legend>{title}</legend>
        {keys.map(key => (
          <label key={key} className="jp-MlopsLab-columnChoice">
            <input
              type="checkbox"
              checked={shown[kind].includes(key)}
              data-column={`${kind}.${key}`}
              onChange={() => props.onToggle(kind, key)}
            />
            {key}
          </label>
        ))}
      </fieldset>
    );
  return (
    <details className="jp-MlopsLab-columnPicker">
      <summary>
        {trans.__(
          'Columns (%1 of %2)',
          shown.params.length + shown.metrics.length,
          props.paramKeys.length + props.metricKeys.length
        )}
      </summary>
      <div className="jp-MlopsLab-columnPickerBody">
        {group('params', trans.__('Params'), props.paramKeys)}
        {group('metrics', trans.__('Metrics'), props.metricKeys)}
      </div>
    </details>
  );
}
