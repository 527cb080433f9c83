/**
 * The MLOps left-sidebar panel: a health header and the Runs section.
 *
 * A section appears here once its feature exists; none waits as a placeholder.
 */
import React from 'react';
import type { IThemeManager } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import type { Message } from '@lumino/messaging';

import { SidebarModel } from '../model';
import type { RunsModel } from '../runs/model';
import { HealthHeader } from './HealthHeader';
import { RunsSection } from './RunsSection';
import { useModelState } from './useModelState';

export interface ISidebarProps {
  model: SidebarModel;
  runsModel: RunsModel;
  trans: TranslationBundle;
  /** Redraws the compare chart in the new theme's colours; none in the tests. */
  themeManager?: IThemeManager | null;
  /** Opens the Runs explorer in the main area; no button without it. */
  onOpenExplorer?: () => void;
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
        themeManager={props.themeManager ?? null}
        onOpenExplorer={props.onOpenExplorer}
        mlflowUiUrl={
          state.status === 'ready' ? state.health.mlflow_ui_url : null
        }
      />
    </div>
  );
}

export interface ISidebarWidgetOptions {
  model: SidebarModel;
  runsModel: RunsModel;
  trans: TranslationBundle;
  themeManager?: IThemeManager | null;
  onOpenExplorer?: () => void;
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
    this._themeManager = options.themeManager ?? null;
    this._onOpenExplorer = options.onOpenExplorer;
    this.addClass('jp-MlopsLab-panel');
  }

  readonly model: SidebarModel;
  readonly runsModel: RunsModel;

  protected render(): JSX.Element {
    return (
      <Sidebar
        model={this.model}
        runsModel={this.runsModel}
        trans={this._trans}
        themeManager={this._themeManager}
        onOpenExplorer={this._onOpenExplorer}
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
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.model.dispose();
    this.runsModel.dispose();
    super.dispose();
  }

  private readonly _trans: TranslationBundle;
  private readonly _themeManager: IThemeManager | null;
  private readonly _onOpenExplorer: (() => void) | undefined;
}
