/**
 * The experiment picker of the Runs section: a select over the experiments
 * loaded so far, a name search asked of the server, and "Load more" while the
 * server has more pages (a team server holds thousands of experiments).
 */
import React from 'react';
import type { TranslationBundle } from '@jupyterlab/translation';
import { HTMLSelect } from '@jupyterlab/ui-components';

import type { Experiment } from '../api/types';
import { SearchInput } from './SearchInput';

export interface IExperimentPickerProps {
  experiments: Experiment[];
  value: string | null;
  /** The name search in effect. */
  search: string;
  /** Can "Load more" fetch another page? */
  hasMore: boolean;
  /** Why the last search or "Load more" failed, if it did. */
  error: string | null;
  trans: TranslationBundle;
  onChange: (experimentId: string) => void;
  onSearch: (name: string) => void;
  onLoadMore: () => void;
}

export function ExperimentPicker(props: IExperimentPickerProps): JSX.Element {
  const { trans } = props;
  const listed = props.experiments.some(e => e.experiment_id === props.value);

  return (
    <div className="jp-MlopsLab-experimentPicker">
      <label className="jp-MlopsLab-experimentChoice">
        <span className="jp-MlopsLab-label">{trans.__('Experiment')}</span>
        <HTMLSelect
          className="jp-MlopsLab-experimentSelect"
          aria-label={trans.__('Experiment')}
          value={props.value ?? ''}
          onChange={event => props.onChange(event.currentTarget.value)}
        >
          {(props.value === null || !listed) && (
            <option value={props.value ?? ''}>
              {props.value === null
                ? trans.__('Choose…')
                : trans.__('(chosen, not in this list)')}
            </option>
          )}
          {props.experiments.map(experiment => (
            <option
              key={experiment.experiment_id}
              value={experiment.experiment_id}
            >
              {experiment.name}
            </option>
          ))}
        </HTMLSelect>
      </label>
      <div className="jp-MlopsLab-experimentTools">
        <SearchInput
          className="jp-MlopsLab-experimentSearch"
          label={trans.__('Find experiments by name')}
          placeholder={trans.__('Find by name')}
          title={trans.__(
            'Experiments whose name contains this, in any case; press Enter'
          )}
          value={props.search}
          onSubmit={props.onSearch}
        />
        {props.hasMore && (
          <button
            className="jp-mod-styled jp-MlopsLab-loadMoreExperiments"
            title={trans.__('Fetch the next page of experiments')}
            onClick={props.onLoadMore}
          >
            {trans.__('Load more')}
          </button>
        )}
      </div>
      {props.search && props.experiments.length === 0 && (
        <p className="jp-MlopsLab-placeholder jp-MlopsLab-noExperiments">
          {trans.__('No experiment name contains “%1”.', props.search)}
        </p>
      )}
      {props.error && (
        <div className="jp-MlopsLab-problem" role="alert">
          {props.error}
        </div>
      )}
    </div>
  );
}
