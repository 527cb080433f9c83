/**
 * Jobs where a notebook is open: the "Run as job" toolbar button, and saving a
 * notebook before a `%mlops job run` cell runs (the magic runs the file on disk
 * and waits for it to be written).
 */
import type { JupyterFrontEnd } from '@jupyterlab/application';
import { MainAreaWidget, ToolbarButton } from '@jupyterlab/apputils';
import {
  INotebookTracker,
  NotebookActions,
  NotebookPanel
} from '@jupyterlab/notebook';
import type { TranslationBundle } from '@jupyterlab/translation';
import { runIcon } from '@jupyterlab/ui-components';
import { DisposableDelegate, IDisposable } from '@lumino/disposable';
import type { ISignal } from '@lumino/signaling';

import type { Schedule, Submission } from '../api/types';
import { RunAsJobWidget } from '../components/RunAsJob';
import type { IJobsAPI } from './client';
import type { ISchedulesAPI } from './scheduleClient';

/** The cell source that makes the magic submit its notebook. */
export const JOB_RUN_MAGIC = /^\s*%mlops\s+job\s+run\b/;

export interface IRunAsJobOptions {
  app: JupyterFrontEnd;
  api: IJobsAPI;
  trans: TranslationBundle;
  onSubmitted: (submission: Submission) => void;
  /** The schedules' API: the form gets its Schedule tab. */
  schedulesApi?: ISchedulesAPI;
  onScheduled?: (schedule: Schedule) => void;
}

/** Open the form for a notebook in the main area (or show the open one). */
export function openRunAsJob(
  options: IRunAsJobOptions,
  panel: NotebookPanel
): void {
  const { app, trans } = options;
  const path = panel.context.path;
  const id = `mlops-lab-run-as-job-${path}`;
  const open = Array.from(app.shell.widgets('main')).find(w => w.id === id);
  if (open) {
    app.shell.activateById(id);
    return;
  }
  const content = new RunAsJobWidget({
    notebook: path,
    api: options.api,
    trans,
    save: async () => {
      if (!panel.isDisposed && panel.context.model.dirty) {
        await panel.context.save();
      }
    },
    onSubmitted: options.onSubmitted,
    schedulesApi: options.schedulesApi,
    onScheduled: options.onScheduled
  });
  const widget = new MainAreaWidget({ content });
  widget.id = id;
  widget.title.label = trans.__('Run as job: %1', panel.context.localPath);
  widget.title.caption = trans.__('Run %1 as a papermill job', path);
  widget.title.icon = runIcon;
  widget.title.closable = true;
  app.shell.add(widget, 'main', { mode: 'split-right', ref: panel.id });
  app.shell.activateById(id);
}

/** Adds "Run as job" to every notebook's toolbar (a notebook widget extension). */
export class RunAsJobButton {
  constructor(private readonly _options: IRunAsJobOptions) {}

  createNew(panel: NotebookPanel): IDisposable {
    const { trans } = this._options;
    const button = new ToolbarButton({
      className: 'jp-MlopsLab-runAsJobButton',
      icon: runIcon,
      label: trans.__('Run as job'),
      tooltip: trans.__(
        'Save this notebook and run it as a papermill job with parameters'
      ),
      onClick: () => openRunAsJob(this._options, panel)
    });
    panel.toolbar.insertAfter('cellType', 'mlopsRunAsJob', button);
    return new DisposableDelegate(() => button.dispose());
  }
}

/** What `NotebookActions.executionScheduled` emits: the notebook and the cell. */
type Scheduled =
  typeof NotebookActions.executionScheduled extends ISignal<unknown, infer A>
    ? A
    : never;

/**
 * Save a notebook when one of its `%mlops job run` cells is scheduled, so the
 * job runs what the user sees.
 */
export function saveBeforeJobMagic(tracker: INotebookTracker): IDisposable {
  const onScheduled = (_: unknown, args: Scheduled): void => {
    if (!JOB_RUN_MAGIC.test(args.cell.model.sharedModel.getSource())) {
      return;
    }
    const panel = tracker.find(p => p.content === args.notebook);
    // Saved even when clean: the magic waits for the file to be written.
    if (panel && !panel.isDisposed) {
      void panel.context.save();
    }
  };
  NotebookActions.executionScheduled.connect(onScheduled);
  return new DisposableDelegate(() =>
    NotebookActions.executionScheduled.disconnect(onScheduled)
  );
}
