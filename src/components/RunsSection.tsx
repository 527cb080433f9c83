/**
 * The "Runs" section of the sidebar: experiment picker, filter, one page of
 * runs, the details of a run and the compare chart of the selected runs.
 */
import React, { useEffect, useMemo } from 'react';
import {
  launchIcon,
  refreshIcon,
  ToolbarButtonComponent
} from '@jupyterlab/ui-components';

import type { RunsPage } from '../api/types';
import type { IRunsState, RunsModel } from '../runs/model';
import { CollapsibleSection } from './CollapsibleSection';
import { CompareChart } from './CompareChart';
import { ExperimentPicker } from './ExperimentPicker';
import { FilterBox } from './FilterBox';
import { RunDetails } from './RunDetails';
import { Pager, RunsTable } from './RunsTable';
import { useModelState } from './useModelState';

/** What the section says for an experiment without runs. */
export const NO_RUNS_MESSAGE =
  'No runs yet: add `%load_ext mlops_lab` and `%mlops track` to a notebook.';

export interface IRunsSectionProps {
  model: RunsModel;
  /** The MLflow UI, when the server has one configured. */
  mlflowUiUrl: string | null;
}

export function RunsSection(props: IRunsSectionProps): JSX.Element {
  const { model } = props;
  const state = useModelState(model);

  useEffect(() => {
    if (model.state.experiments.status === 'idle') {
      void model.loadExperiments();
    }
  }, [model]);

  return (
    <CollapsibleSection title="Runs" name="runs">
      <div className="jp-MlopsLab-runsToolbar">
        {state.experiments.status === 'ready' && (
          <ExperimentPicker
            experiments={state.experiments.value}
            value={state.experimentId}
            onChange={id => void model.selectExperiment(id)}
          />
        )}
        <ToolbarButtonComponent
          className="jp-MlopsLab-runsRefresh"
          icon={refreshIcon}
          tooltip="Fetch the experiments and runs again"
          onClick={() => void model.refresh()}
        />
        {props.mlflowUiUrl && (
          <a
            className="jp-MlopsLab-mlflowUi"
            href={props.mlflowUiUrl}
            target="_blank"
            rel="noreferrer"
            title="Open the MLflow UI"
          >
            MLflow UI
            <launchIcon.react tag="span" className="jp-MlopsLab-buttonIcon" />
          </a>
        )}
      </div>
      <RunsBody model={model} state={state} />
    </CollapsibleSection>
  );
}

function RunsBody(props: { model: RunsModel; state: IRunsState }): JSX.Element {
  const { model, state } = props;
  const selectedIds = useMemo(
    () => new Set(state.selected.map(run => run.run_id)),
    [state.selected]
  );

  if (state.experiments.status === 'loading') {
    return <p className="jp-MlopsLab-loading">Loading the experiments…</p>;
  }
  if (state.experiments.status === 'failed') {
    return (
      <div className="jp-MlopsLab-problem jp-MlopsLab-runsError" role="alert">
        {state.experiments.message}
      </div>
    );
  }
  if (
    state.experiments.status === 'ready' &&
    state.experiments.value.length === 0
  ) {
    return (
      <p className="jp-MlopsLab-placeholder jp-MlopsLab-noRuns">
        {NO_RUNS_MESSAGE}
      </p>
    );
  }

  const { page } = state;
  const shown: RunsPage | null =
    page.status === 'ready'
      ? page.value
      : page.status === 'loading'
        ? (page.previous ?? null)
        : null;

  return (
    <>
      <FilterBox
        filter={state.filter}
        error={state.filterError}
        onApply={filter => void model.setFilter(filter)}
      />
      {page.status === 'failed' && (
        <div className="jp-MlopsLab-problem jp-MlopsLab-runsError" role="alert">
          {page.message}
        </div>
      )}
      {page.status === 'loading' && !shown && (
        <p className="jp-MlopsLab-loading">Loading the runs…</p>
      )}
      {shown && shown.runs.length === 0 && (
        <p className="jp-MlopsLab-placeholder jp-MlopsLab-noRuns">
          {state.filter ? 'No run matches the filter.' : NO_RUNS_MESSAGE}
        </p>
      )}
      {shown && shown.runs.length > 0 && (
        <div
          className="jp-MlopsLab-runs"
          aria-busy={page.status === 'loading'}
          data-loading={page.status === 'loading'}
        >
          <RunsTable
            page={shown}
            sort={state.sort}
            selectedIds={selectedIds}
            activeRunId={state.detail?.runId ?? null}
            onSort={(kind, key) => void model.sortBy(kind, key)}
            onToggleSelected={run => model.toggleSelected(run)}
            onShowDetails={runId => void model.showDetails(runId)}
          />
          <Pager
            pageIndex={state.pageIndex}
            count={shown.runs.length}
            canGoBack={state.canGoBack}
            canGoForward={Boolean(shown.next_page_token)}
            busy={page.status === 'loading'}
            onPrevious={() => void model.previousPage()}
            onNext={() => void model.nextPage()}
          />
        </div>
      )}
      {state.selected.length > 0 && (
        <CompareChart
          runs={state.selected}
          onClear={() => model.clearSelection()}
        />
      )}
      {state.detail && (
        <RunDetails
          detail={state.detail}
          canOpenSnapshot={model.canOpenSnapshot}
          onOpenSnapshot={() => void model.openSnapshot()}
          onClose={() => model.closeDetails()}
        />
      )}
    </>
  );
}
