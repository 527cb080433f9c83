/**
 * The MLOps left-sidebar panel: a health header and one section per feature.
 */
import React from 'react';
import { ReactWidget } from '@jupyterlab/ui-components';
import type { Message } from '@lumino/messaging';

import { SidebarModel } from '../model';
import type { RunsModel } from '../runs/model';
import { HealthHeader } from './HealthHeader';
import { JobsSection } from './JobsSection';
import { ModelsSection } from './ModelsSection';
import { RunsSection } from './RunsSection';
import { useModelState } from './useModelState';

export interface ISidebarProps {
  model: SidebarModel;
  runsModel: RunsModel;
}

/** The panel's content; follows the model and stops following it on unmount. */
export function Sidebar(props: ISidebarProps): JSX.Element {
  const { model } = props;
  const state = useModelState(model);

  return (
    <div className="jp-MlopsLab-sidebar">
      <HealthHeader state={state} onRefresh={() => void model.refresh()} />
      <RunsSection
        model={props.runsModel}
        mlflowUiUrl={
          state.status === 'ready' ? state.health.mlflow_ui_url : null
        }
      />
      <JobsSection />
      <ModelsSection />
    </div>
  );
}

/**
 * The Lumino widget JupyterLab adds to the left area.
 */
export class SidebarWidget extends ReactWidget {
  constructor(model: SidebarModel, runsModel: RunsModel) {
    super();
    this.model = model;
    this.runsModel = runsModel;
    this.addClass('jp-MlopsLab-panel');
  }

  readonly model: SidebarModel;
  readonly runsModel: RunsModel;

  protected render(): JSX.Element {
    return <Sidebar model={this.model} runsModel={this.runsModel} />;
  }

  /**
   * Coming back to the panel fetches what changed while it was hidden: a notebook
   * run in the meantime may have made a new experiment or new runs.
   */
  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    if (this.runsModel.state.experiments.status !== 'idle') {
      void this.runsModel.refresh();
    }
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.model.dispose();
    this.runsModel.dispose();
    super.dispose();
  }
}
