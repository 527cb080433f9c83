/**
 * The "Runs" section of the sidebar: the experiment picker and a compact list of
 * its recent notebook runs (name, status, one chosen metric; no model or
 * candidate runs), optionally only the current notebook's; each run opens in
 * the Runs explorer in the main area, which holds the wide table with the model
 * runs nested, the filter, the details and the comparison.
 */
import React, { useEffect, useState } from 'react';
import type { TranslationBundle } from '@jupyterlab/translation';
import { launchIcon } from '@jupyterlab/ui-components';

import { IRunsState, RunsModel, shownExperiments } from '../runs/model';
import { notebookFilter } from '../runs/notebookFilter';
import { CollapsibleSection } from './CollapsibleSection';
import { ExperimentBar } from './ExperimentBar';
import { noRunsMessage, PageStatus, shownPage } from './PageStatus';
import { RecentRuns } from './RecentRuns';
import { ModelPager } from './RunsTable';
import { useModelState } from './useModelState';

export interface IRunsSectionProps {
  model: RunsModel;
  trans: TranslationBundle;
  /** The MLflow UI, when the server has one configured. */
  mlflowUiUrl: string | null;
  /** Opens the Runs explorer in the main area; no button without it. */
  onOpenExplorer?: () => void;
  /** Opens one run of the experiment shown in the explorer. */
  onOpenRun?: (experimentId: string, runId: string) => void;
  /** The path of the notebook in focus, for "This notebook only". */
  currentNotebook?: string | null;
}

export function RunsSection(props: IRunsSectionProps): JSX.Element {
  const { model, trans } = props;
  const state = useModelState(model);
  const [notebookOnly, setNotebookOnly] = useState(false);
  const notebook = props.currentNotebook ?? null;

  useEffect(() => {
    if (model.state.experiments.status === 'idle') {
      void model.loadExperiments();
    }
  }, [model]);

  // The list follows the notebook in focus while "This notebook only" is on.
  useEffect(() => {
    const wanted = notebookFilter(notebookOnly ? notebook : null);
    if (model.state.experimentId !== null && model.state.filter !== wanted) {
      void model.setFilter(wanted);
    }
  }, [model, notebookOnly, notebook, state.experimentId]);

  return (
    <CollapsibleSection title={trans.__('Runs')} name="runs">
      <div className="jp-MlopsLab-runsToolbar">
        <ExperimentBar model={model} state={state} trans={trans} />
        {props.onOpenExplorer && (
          <button
            className="jp-mod-styled jp-MlopsLab-openExplorer"
            title={trans.__('Open the runs in the main area, wide')}
            onClick={props.onOpenExplorer}
          >
            {trans.__('Open explorer')}
          </button>
        )}
        {props.mlflowUiUrl && (
          <a
            className="jp-MlopsLab-mlflowUi"
            href={props.mlflowUiUrl}
            target="_blank"
            rel="noreferrer"
            title={trans.__('Open the MLflow UI')}
          >
            {trans.__('MLflow UI')}
            <launchIcon.react tag="span" className="jp-MlopsLab-buttonIcon" />
          </a>
        )}
      </div>
      {notebook && (
        <label
          className="jp-MlopsLab-notebookOnly"
          title={trans.__('Runs tracked from %1', notebook)}
        >
          <input
            type="checkbox"
            checked={notebookOnly}
            onChange={event => setNotebookOnly(event.currentTarget.checked)}
          />
          {trans.__('This notebook only')}
        </label>
      )}
      <RunsBody
        model={model}
        state={state}
        trans={trans}
        onOpenRun={props.onOpenRun}
      />
    </CollapsibleSection>
  );
}

function RunsBody(props: {
  model: RunsModel;
  state: IRunsState;
  trans: TranslationBundle;
  onOpenRun?: (experimentId: string, runId: string) => void;
}): JSX.Element {
  const { model, state, trans } = props;

  const experiments = shownExperiments(state.experiments);
  if (state.experiments.status === 'loading' && !experiments) {
    return (
      <p className="jp-MlopsLab-loading">
        {trans.__('Loading the experiments…')}
      </p>
    );
  }
  if (state.experiments.status === 'failed') {
    return (
      <div className="jp-MlopsLab-problem jp-MlopsLab-runsError" role="alert">
        {state.experiments.message}
      </div>
    );
  }
  if (experiments && experiments.length === 0 && !state.experimentName) {
    return (
      <p className="jp-MlopsLab-placeholder jp-MlopsLab-noRuns">
        {noRunsMessage(trans)}
      </p>
    );
  }

  const { page } = state;
  const shown = shownPage(page);

  return (
    <>
      {state.filterError && (
        <div className="jp-MlopsLab-problem" role="alert">
          {state.filterError}
        </div>
      )}
      <PageStatus
        state={state}
        noneMatch={trans.__('No run of this notebook in the experiment.')}
        trans={trans}
      />
      {shown && shown.runs.length > 0 && (
        <div
          className="jp-MlopsLab-runs"
          aria-busy={page.status === 'loading'}
          data-loading={page.status === 'loading'}
        >
          <RecentRuns
            page={shown}
            trans={trans}
            onOpenRun={runId => {
              if (state.experimentId !== null) {
                props.onOpenRun?.(state.experimentId, runId);
              }
            }}
          />
          <ModelPager model={model} state={state} shown={shown} trans={trans} />
        </div>
      )}
    </>
  );
}
