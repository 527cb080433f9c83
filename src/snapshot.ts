/**
 * Opening a run's notebook snapshot read-only in the main area.
 *
 * The snapshot is nbformat JSON from the server, not a file in the Jupyter
 * contents: it is loaded into a `NotebookModel` and shown by JupyterLab's own
 * `StaticNotebook` widget (the application's rendermime registry, cell content
 * factory and mime type service), every cell marked non-editable, inside a
 * `MainAreaWidget`. No kernel, no context, nothing to save.
 */
import { MainAreaWidget } from '@jupyterlab/apputils';
import type { IEditorMimeTypeService } from '@jupyterlab/codeeditor';
import type * as nbformat from '@jupyterlab/nbformat';
import {
  NotebookModel,
  NotebookPanel,
  StaticNotebook
} from '@jupyterlab/notebook';
import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import type { TranslationBundle } from '@jupyterlab/translation';
import { notebookIcon } from '@jupyterlab/ui-components';

import type { RunDetail, RunNotebook } from './api/types';
import { runLabel } from './runs/format';

/** What JupyterLab lends us to render a notebook. */
export interface ISnapshotServices {
  rendermime: IRenderMimeRegistry;
  contentFactory: NotebookPanel.IContentFactory;
  mimeTypeService: IEditorMimeTypeService;
  trans: TranslationBundle;
}

/**
 * The snapshot's JSON with every cell marked `editable: false`.
 *
 * @throws {Error} when the content is not an nbformat 4 notebook
 */
export function readOnlyContent(
  content: RunNotebook['content'],
  trans: TranslationBundle
): nbformat.INotebookContent {
  const cells = content['cells'];
  if (!Array.isArray(cells) || typeof content['nbformat'] !== 'number') {
    throw new Error(
      trans.__('The snapshot logged with this run is not a notebook.')
    );
  }
  const notebook = content as unknown as nbformat.INotebookContent;
  return {
    ...notebook,
    cells: notebook.cells.map(cell => ({
      ...cell,
      metadata: { ...cell.metadata, editable: false }
    }))
  };
}

/** How a read-only notebook's tab is named. */
export interface IReadOnlyTitle {
  /** The widget id: opening the same notebook again shows the open one. */
  id: string;
  label: string;
  caption: string;
}

/**
 * A main-area widget showing nbformat JSON read-only (a run's snapshot, a
 * job's output notebook).
 *
 * @throws {Error} when the content is not an nbformat 4 notebook
 */
export function createReadOnlyNotebookWidget(
  services: ISnapshotServices,
  title: IReadOnlyTitle,
  notebookContent: RunNotebook['content']
): MainAreaWidget<StaticNotebook> {
  const model = new NotebookModel();
  const { trans } = services;
  model.fromJSON(readOnlyContent(notebookContent, trans));
  model.readOnly = true;
  model.dirty = false;

  const content = new StaticNotebook({
    rendermime: services.rendermime,
    contentFactory: services.contentFactory,
    mimeTypeService: services.mimeTypeService,
    notebookConfig: {
      ...StaticNotebook.defaultNotebookConfig,
      windowingMode: 'none'
    }
  });
  content.model = model;
  for (const cell of content.widgets) {
    cell.readOnly = true;
  }
  content.addClass('jp-MlopsLab-snapshotNotebook');
  content.disposed.connect(() => model.dispose());

  const widget = new MainAreaWidget({ content });
  widget.id = title.id;
  widget.addClass('jp-MlopsLab-snapshot');
  widget.title.label = title.label;
  widget.title.caption = title.caption;
  widget.title.icon = notebookIcon;
  widget.title.closable = true;
  return widget;
}

/**
 * A main-area widget showing the snapshot read-only.
 *
 * @throws {Error} when the content is not an nbformat 4 notebook
 */
export function createSnapshotWidget(
  services: ISnapshotServices,
  run: RunDetail,
  notebook: RunNotebook
): MainAreaWidget<StaticNotebook> {
  const { trans } = services;
  return createReadOnlyNotebookWidget(
    services,
    {
      id: `mlops-lab-snapshot-${run.run_id}`,
      label: trans.__('%1 (snapshot, read-only)', runLabel(run)),
      caption: trans.__(
        'Notebook %1 as logged with run %2. Read-only: it is not a file and cannot be saved or run.',
        notebook.path,
        run.run_id
      )
    },
    notebook.content
  );
}
