/**
 * The Runs explorer in JupyterLab's main area: the wide runs table with runs
 * nested under their parent to any depth (a notebook run, its model runs, a
 * search's candidates), the columns the user chose (remembered
 * per experiment), the server's sort, filter and paging, a run's details in a
 * side panel, and the comparison of the selected runs (a bar chart per shown
 * metric, parallel coordinates of the swept params, the compare chart with its
 * history view).
 *
 * It renders its own `RunsModel`, so the sidebar's list and the explorer page
 * and filter independently.
 */
import React, { useEffect, useMemo, useState } from 'react';
import type { IThemeManager } from '@jupyterlab/apputils';
import { MainAreaWidget } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';

import type { RunSummary } from '../api/types';
import { CompareChart } from '../components/CompareChart';
import { ExperimentBar } from '../components/ExperimentBar';
import { noRunsMessage, PageStatus, shownPage } from '../components/PageStatus';
import { FilterBox } from '../components/FilterBox';
import { RunDetails } from '../components/RunDetails';
import { ModelPager, RunsTable } from '../components/RunsTable';
import { useModelState } from '../components/useModelState';
import { mlopsIcon } from '../icons';
import {
  ColumnChoices,
  IColumnChoice,
  toggleColumn,
  visibleColumns
} from '../runs/columns';
import { Loadable, RunsModel, shownExperiments } from '../runs/model';
import { ColumnPicker } from './ColumnPicker';
import { MetricBars } from './MetricBars';
import { ParallelChart } from './ParallelChart';

/** The explorer's widget id: one explorer at a time. */
export const EXPLORER_ID = 'mlops-lab:runs-explorer';

export interface IRunsExplorerProps {
  model: RunsModel;
  columns: ColumnChoices;
  trans: TranslationBundle;
  themeManager?: IThemeManager | null;
}

/** The column choice of the experiment shown, loaded and saved through `columns`. */
function useColumnChoice(
  columns: ColumnChoices,
  experimentId: string | null
): [IColumnChoice | null, (choice: IColumnChoice) => void] {
  const [choice, setChoice] = useState<{
    experimentId: string | null;
    value: IColumnChoice | null;
  }>({ experimentId: null, value: null });
  useEffect(() => {
    let current = true;
    if (experimentId === null) {
      setChoice({ experimentId, value: null });
      return;
    }
    void columns.load(experimentId).then(value => {
      if (current) {
        setChoice({ experimentId, value });
      }
    });
    return () => {
      current = false;
    };
  }, [columns, experimentId]);
  const value = choice.experimentId === experimentId ? choice.value : null;
  const update = (next: IColumnChoice): void => {
    setChoice({ experimentId, value: next });
    if (experimentId !== null) {
      void columns.save(experimentId, next);
    }
  };
  return [value, update];
}

/** The runs expanded in the table, and the children fetched for them, per experiment. */
interface ITreeState {
  experimentId: string | null;
  expanded: ReadonlySet<string>;
  fetched: ReadonlyMap<string, Loadable<RunSummary[]>>;
}

function emptyTree(experimentId: string | null): ITreeState {
  return { experimentId, expanded: new Set(), fetched: new Map() };
}

export function RunsExplorer(props: IRunsExplorerProps): JSX.Element {
  const { model, trans } = props;
  const state = useModelState(model);
  const experiments = shownExperiments(state.experiments);
  const [choice, setChoice] = useColumnChoice(
    props.columns,
    state.experimentId
  );
  const [tree, setTree] = useState<ITreeState>(() =>
    emptyTree(state.experimentId)
  );
  // Another experiment: nothing stays expanded or fetched. Derived while
  // rendering rather than reset by an effect, so a click made before an effect
  // ran is never undone, and a late answer for the old experiment is dropped.
  const current =
    tree.experimentId === state.experimentId
      ? tree
      : emptyTree(state.experimentId);
  const { expanded, fetched } = current;
  const selectedIds = useMemo(
    () => new Set(state.selected.map(run => run.run_id)),
    [state.selected]
  );

  useEffect(() => {
    if (model.state.experiments.status === 'idle') {
      void model.loadExperiments();
    }
  }, [model]);

  const { page } = state;
  const shown = shownPage(page);
  const columns = shown ? visibleColumns(shown, choice) : null;
  const comparison =
    state.comparison.status === 'ready' ? state.comparison.value : null;

  // Expanding asks the server for all the run's children, whichever page
  // they are on; the page's own children show until they arrive.
  const toggleExpanded = (runId: string): void => {
    const next = new Set(expanded);
    if (next.delete(runId)) {
      setTree({ ...current, expanded: next });
      return;
    }
    next.add(runId);
    setTree({
      ...current,
      expanded: next,
      fetched: new Map(fetched).set(runId, { status: 'loading' })
    });
    const experimentId = current.experimentId;
    void model.fetchChildren(runId).then(children => {
      setTree(latest =>
        latest.experimentId === experimentId
          ? { ...latest, fetched: new Map(latest.fetched).set(runId, children) }
          : latest
      );
    });
  };

  return (
    <div className="jp-MlopsLab-explorer">
      <div className="jp-MlopsLab-explorerMain">
        <div className="jp-MlopsLab-runsToolbar">
          <ExperimentBar model={model} state={state} trans={trans} />
          {shown && columns && (
            <ColumnPicker
              paramKeys={shown.param_keys}
              metricKeys={shown.metric_keys}
              shown={columns}
              trans={trans}
              onToggle={(kind, key) =>
                setChoice(toggleColumn(shown, choice, kind, key))
              }
            />
          )}
        </div>
        {state.experiments.status === 'failed' && (
          <div className="jp-MlopsLab-problem" role="alert">
            {state.experiments.message}
          </div>
        )}
        {experiments && experiments.length === 0 && !state.experimentName && (
          <p className="jp-MlopsLab-placeholder jp-MlopsLab-noRuns">
            {noRunsMessage(trans)}
          </p>
        )}
        {state.experimentId !== null && (
          <FilterBox
            filter={state.filter}
            error={state.filterError}
            trans={trans}
            onApply={filter => void model.setFilter(filter)}
          />
        )}
        <PageStatus
          state={state}
          noneMatch={trans.__('No run matches the filter.')}
          trans={trans}
        />
        {shown && columns && shown.runs.length > 0 && (
          <div
            className="jp-MlopsLab-runs"
            aria-busy={page.status === 'loading'}
          >
            <RunsTable
              page={shown}
              sort={state.sort}
              selectedIds={selectedIds}
              activeRunId={state.detail?.runId ?? null}
              trans={trans}
              columns={columns}
              nesting={{ expanded, fetched, onToggle: toggleExpanded }}
              onSort={(kind, key) => void model.sortBy(kind, key)}
              onToggleSelected={run => void model.toggleSelected(run)}
              onShowDetails={runId => void model.showDetails(runId)}
            />
            <ModelPager
              model={model}
              state={state}
              shown={shown}
              trans={trans}
            />
          </div>
        )}
        {state.selected.length > 0 && (
          <section className="jp-MlopsLab-explorerCompare">
            {comparison && columns && (
              <MetricBars
                comparison={comparison}
                metrics={columns.metrics}
                trans={trans}
              />
            )}
            {comparison && (
              <ParallelChart comparison={comparison} trans={trans} />
            )}
            <CompareChart
              selected={state.selected}
              comparison={state.comparison}
              trans={trans}
              themeManager={props.themeManager ?? null}
              onClear={() => model.clearSelection()}
            />
          </section>
        )}
      </div>
      {state.detail && (
        <aside className="jp-MlopsLab-explorerSide">
          <RunDetails
            detail={state.detail}
            trans={trans}
            canOpenSnapshot={model.canOpenSnapshot}
            onOpenSnapshot={() => void model.openSnapshot()}
            onClose={() => model.closeDetails()}
          />
        </aside>
      )}
    </div>
  );
}

export type IExplorerWidgetOptions = IRunsExplorerProps;

/** The explorer as a main-area widget; disposing it disposes its model. */
export function createExplorerWidget(
  options: IExplorerWidgetOptions
): MainAreaWidget<ReactWidget> {
  const content = ReactWidget.create(<RunsExplorer {...options} />);
  content.addClass('jp-MlopsLab-explorerContent');
  const widget = new MainAreaWidget({ content });
  widget.id = EXPLORER_ID;
  widget.title.label = options.trans.__('Runs');
  widget.title.caption = options.trans.__('MLOps: runs explorer');
  widget.title.icon = mlopsIcon;
  widget.title.closable = true;
  widget.addClass('jp-MlopsLab-explorerPanel');
  widget.disposed.connect(() => options.model.dispose());
  return widget;
}
