/**
 * The "Runs" section of the sidebar: experiment picker, filter, one page of
 * runs, the details of a run and the compare chart of the selected runs.
 */
import React, { useEffect, useMemo } from 'react';
import type { IThemeManager } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import {
  launchIcon,
  refreshIcon,
  ToolbarButtonComponent
} from '@jupyterlab/ui-components';

import type { RunsPage } from '../api/types';
import { IRunsState, RunsModel, shownExperiments } from '../runs/model';
import { CollapsibleSection } from './CollapsibleSection';
import { CompareChart } from './CompareChart';
import { ExperimentPicker } from './ExperimentPicker';
import { FilterBox } from './FilterBox';
import { RunDetails } from './RunDetails';
import { Pager, RunsTable } from './RunsTable';
import { useModelState } from './useModelState';

/** What the section says for an experiment without runs. */
export function noRunsMessage(trans: TranslationBundle): string {
  return trans.__(
    'No runs yet: add `%%load_ext mlops_lab` and `%%mlops track` to a notebook.'
  );
}

export interface IRunsSectionProps {
  model: RunsModel;
  trans: TranslationBundle;
  /** Redraws the compare chart in the new theme's colours. */
  themeManager?: IThemeManager | null;
  /** The MLflow UI, when the server has one configured. */
  mlflowUiUrl: string | null;
  /** Opens the Runs explorer in the main area; no button without it. */
  onOpenExplorer?: () => void;
}

export function RunsSection(props: IRunsSectionProps): JSX.Element {
  const { model, trans } = props;
  const state = useModelState(model);
  const experiments = shownExperiments(state.experiments);

  useEffect(() => {
    if (model.state.experiments.status === 'idle') {
      void model.loadExperiments();
    }
  }, [model]);

  return (
    <CollapsibleSection title={trans.__('Runs')} name="runs">
      <div className="jp-MlopsLab-runsToolbar">
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
      <RunsBody
        model={model}
        state={state}
        trans={trans}
        themeManager={props.themeManager ?? null}
      />
    </CollapsibleSection>
  );
}

function RunsBody(props: {
  model: RunsModel;
  state: IRunsState;
  trans: TranslationBundle;
  themeManager: IThemeManager | null;
}): JSX.Element {
  const { model, state, trans } = props;
  const selectedIds = useMemo(
    () => new Set(state.selected.map(run => run.run_id)),
    [state.selected]
  );

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
        trans={trans}
        onApply={filter => void model.setFilter(filter)}
      />
      {state.notice && (
        <p className="jp-MlopsLab-notice" role="status">
          {state.notice}
        </p>
      )}
      {page.status === 'failed' && (
        <div className="jp-MlopsLab-problem jp-MlopsLab-runsError" role="alert">
          {page.message}
        </div>
      )}
      {page.status === 'loading' && !shown && (
        <p className="jp-MlopsLab-loading">{trans.__('Loading the runs…')}</p>
      )}
      {shown && shown.runs.length === 0 && (
        <p className="jp-MlopsLab-placeholder jp-MlopsLab-noRuns">
          {state.filter
            ? trans.__('No run matches the filter.')
            : noRunsMessage(trans)}
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
            trans={trans}
            onSort={(kind, key) => void model.sortBy(kind, key)}
            onToggleSelected={run => void model.toggleSelected(run)}
            onShowDetails={runId => void model.showDetails(runId)}
          />
          <Pager
            pageIndex={state.pageIndex}
            count={shown.runs.length}
            canGoBack={state.canGoBack}
            canGoForward={Boolean(shown.next_page_token)}
            busy={page.status === 'loading'}
            trans={trans}
            onPrevious={() => void model.previousPage()}
            onNext={() => void model.nextPage()}
          />
        </div>
      )}
      {state.selected.length > 0 && (
        <CompareChart
          selected={state.selected}
          comparison={state.comparison}
          trans={trans}
          themeManager={props.themeManager}
          onClear={() => model.clearSelection()}
        />
      )}
      {state.detail && (
        <RunDetails
          detail={state.detail}
          trans={trans}
          canOpenSnapshot={model.canOpenSnapshot}
          onOpenSnapshot={() => void model.openSnapshot()}
          onClose={() => model.closeDetails()}
        />
      )}
    </>
  );
}
