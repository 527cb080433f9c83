/**
 * The start of a runs toolbar, shared by the sidebar's Runs section and the
 * Runs explorer: the experiment picker (once experiments are known) and the
 * refresh button, both driving a `RunsModel`.
 */
import React from 'react';
import type { TranslationBundle } from '@jupyterlab/translation';
import { refreshIcon, ToolbarButtonComponent } from '@jupyterlab/ui-components';

import { IRunsState, RunsModel, shownExperiments } from '../runs/model';
import { ExperimentPicker } from './ExperimentPicker';

export interface IExperimentBarProps {
  model: RunsModel;
  state: IRunsState;
  trans: TranslationBundle;
}

export function ExperimentBar(props: IExperimentBarProps): JSX.Element {
  const { model, state, trans } = props;
  const experiments = shownExperiments(state.experiments);
  return (
    <>
      {experiments && (experiments.length > 0 || state.experimentName) && (
        <ExperimentPicker
          experiments={experiments}
          value={state.experimentId}
          search={state.experimentName}
          hasMore={Boolean(state.experimentsNextToken)}
          error={state.experimentsError}
          trans={trans}
          onChange={id => void model.selectExperiment(id)}
          onSearch={name => void model.searchExperiments(name)}
          onLoadMore={() => void model.loadMoreExperiments()}
        />
      )}
      <ToolbarButtonComponent
        className="jp-MlopsLab-runsRefresh"
        icon={refreshIcon}
        tooltip={trans.__('Fetch the experiments and runs again')}
        onClick={() => void model.refresh()}
      />
    </>
  );
}
