/**
 * The MLOps left-sidebar panel: a health header, the Runs and the Jobs sections.
 *
 * A section appears here once its feature exists; none waits as a placeholder.
 */
import React from 'react';
import type { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import type { Message } from '@lumino/messaging';

import type { Execution } from '../api/types';
import type { JobsModel } from '../jobs/model';
import type { SchedulesModel } from '../jobs/scheduleModel';
import { SidebarModel } from '../model';
import type { RunsModel } from '../runs/model';
import { HealthHeader } from './HealthHeader';
import { JobsSection } from './JobsSection';
import { RunsSection } from './RunsSection';
import { useModelState } from './useModelState';

export interface ISidebarProps {
  model: SidebarModel;
  runsModel: RunsModel;
  trans: TranslationBundle;
  /** Opens the Runs explorer in the main area; no button without it. */
  onOpenExplorer?: () => void;
  /** Opens one run in the Runs explorer. */
  onOpenRun?: (experimentId: string, runId: string) => void;
  /** The path of the notebook in focus. */
  currentNotebook?: string | null;
  /** The Jobs section's model; no section without it. */
  jobsModel?: JobsModel;
  /** The schedules listed in the Jobs section; none without it. */
  schedulesModel?: SchedulesModel;
  /** Opens an execution's output notebook read-only. */
  onOpenOutput?: (execution: Execution) => void;
}

/** The panel's content; follows the model and stops following it on unmount. */
export function Sidebar(props: ISidebarProps): JSX.Element {
  const { model, trans } = props;
  const state = useModelState(model);

  return (
    <div className="jp-MlopsLab-sidebar">
      <HealthHeader
        state={state}
        trans={trans}
        onRefresh={() => void model.refresh()}
      />
      <RunsSection
        model={props.runsModel}
        trans={trans}
        onOpenExplorer={props.onOpenExplorer}
        onOpenRun={props.onOpenRun}
        currentNotebook={props.currentNotebook ?? null}
        mlflowUiUrl={
          state.status === 'ready' ? state.health.mlflow_ui_url : null
        }
      />
      {props.jobsModel && (
        <JobsSection
          model={props.jobsModel}
          schedules={props.schedulesModel}
          trans={trans}
          onOpenOutput={props.onOpenOutput}
          onOpenRun={props.onOpenRun}
        />
      )}
    </div>
  );
}

export interface ISidebarWidgetOptions {
  model: SidebarModel;
  runsModel: RunsModel;
  trans: TranslationBundle;
  onOpenExplorer?: () => void;
  onOpenRun?: (experimentId: string, runId: string) => void;
  jobsModel?: JobsModel;
  schedulesModel?: SchedulesModel;
  onOpenOutput?: (execution: Execution) => void;
}

/**
 * The Lumino widget JupyterLab adds to the left area.
 */
export class SidebarWidget extends ReactWidget {
  constructor(options: ISidebarWidgetOptions) {
    super();
    this.model = options.model;
    this.runsModel = options.runsModel;
    this._trans = options.trans;
    this._onOpenExplorer = options.onOpenExplorer;
    this._onOpenRun = options.onOpenRun;
    this.jobsModel = options.jobsModel;
    this.schedulesModel = options.schedulesModel;
    this._onOpenOutput = options.onOpenOutput;
    this.addClass('jp-MlopsLab-panel');
  }

  readonly model: SidebarModel;
  readonly runsModel: RunsModel;
  readonly jobsModel: JobsModel | undefined;
  readonly schedulesModel: SchedulesModel | undefined;

  /** Follow the notebook in focus (its path from the server root), or none. */
  setCurrentNotebook(path: string | null): void {
    if (path !== this._currentNotebook) {
      this._currentNotebook = path;
      this.update();
    }
  }

  protected render(): JSX.Element {
    return (
      <Sidebar
        model={this.model}
        runsModel={this.runsModel}
        trans={this._trans}
        onOpenExplorer={this._onOpenExplorer}
        onOpenRun={this._onOpenRun}
        currentNotebook={this._currentNotebook}
        jobsModel={this.jobsModel}
        schedulesModel={this.schedulesModel}
        onOpenOutput={this._onOpenOutput}
      />
    );
  }

  /**
   * Coming back to the panel checks the server again (the poll stood by while
   * the panel was hidden) and fetches what changed in the meantime: a notebook
   * run may have made a new experiment or new runs.
   */
  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    void this.model.refresh();
    if (this.runsModel.state.experiments.status !== 'idle') {
      void this.runsModel.refresh();
    }
    void this.jobsModel?.refresh();
    void this.schedulesModel?.refresh();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.model.dispose();
    this.runsModel.dispose();
    this.jobsModel?.dispose();
    this.schedulesModel?.dispose();
    super.dispose();
  }

  private readonly _trans: TranslationBundle;
  private readonly _onOpenExplorer: (() => void) | undefined;
  private readonly _onOpenRun:
    ((experimentId: string, runId: string) => void) | undefined;
  private readonly _onOpenOutput: ((execution: Execution) => void) | undefined;
  private _currentNotebook: string | null = null;
}
