/**
 * mlops-lab: the JupyterLab plugins.
 *
 * `mlops-lab:api` provides the typed REST client (`IMlopsLabAPI`);
 * `mlops-lab:sidebar` adds the MLOps panel to the left area, the Runs explorer in
 * the main area, and the commands (palette, launcher) that open them.
 */
import {
  ILabShell,
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  ICommandPalette,
  IThemeManager,
  MainAreaWidget,
  showErrorMessage,
  WidgetTracker
} from '@jupyterlab/apputils';
import { IEditorServices } from '@jupyterlab/codeeditor';
import { ILauncher } from '@jupyterlab/launcher';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStateDB } from '@jupyterlab/statedb';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import type { ReactWidget } from '@jupyterlab/ui-components';

import { MlopsLabClient } from './api/client';
import type { Execution } from './api/types';
import { SidebarWidget } from './components/Sidebar';
import { createExplorerWidget, EXPLORER_ID } from './explorer/RunsExplorer';
import { mlopsIcon } from './icons';
import { SidebarModel } from './model';
import { ColumnChoices } from './runs/columns';
import {
  DEFAULT_PAGE_SIZE,
  RunsModel,
  SnapshotOpener,
  TOP_LEVEL_FILTER
} from './runs/model';
import { JobsClient } from './jobs/client';
import { JobsModel } from './jobs/model';
import { SchedulesClient } from './jobs/scheduleClient';
import { SchedulesModel } from './jobs/scheduleModel';
import { RunAsJobButton, saveBeforeJobMagic } from './jobs/notebook';
import { createReadOnlyNotebookWidget, createSnapshotWidget } from './snapshot';
import { IMlopsLabAPI } from './tokens';

export { IMlopsLabAPI } from './tokens';
export { MlopsLabResponseError, requestAPI } from './request';

/** The command and widget ids. */
export namespace CommandIDs {
  export const openSidebar = 'mlops-lab:open-sidebar';
  export const openRunsExplorer = 'mlops-lab:open-runs-explorer';
}
export const SIDEBAR_ID = 'mlops-lab:sidebar';

const SIDEBAR_PLUGIN_ID = 'mlops-lab:sidebar';

/** The seconds between automatic health checks when the settings say nothing. */
const DEFAULT_REFRESH_INTERVAL = 60;

const apiPlugin: JupyterFrontEndPlugin<IMlopsLabAPI> = {
  id: 'mlops-lab:api',
  description: 'A typed client for the mlops-lab REST API.',
  autoStart: true,
  provides: IMlopsLabAPI,
  activate: (app: JupyterFrontEnd): IMlopsLabAPI =>
    new MlopsLabClient(app.serviceManager.serverSettings)
};

const sidebarPlugin: JupyterFrontEndPlugin<void> = {
  id: SIDEBAR_PLUGIN_ID,
  description: 'The MLOps panel in the left sidebar.',
  autoStart: true,
  requires: [IMlopsLabAPI],
  optional: [
    ILabShell,
    ILayoutRestorer,
    ICommandPalette,
    ISettingRegistry,
    IStateDB,
    IRenderMimeRegistry,
    NotebookPanel.IContentFactory,
    IEditorServices,
    ITranslator,
    IThemeManager,
    ILauncher,
    INotebookTracker
  ],
  activate: (
    app: JupyterFrontEnd,
    api: IMlopsLabAPI,
    labShell: ILabShell | null,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    settingRegistry: ISettingRegistry | null,
    stateDB: IStateDB | null,
    rendermime: IRenderMimeRegistry | null,
    contentFactory: NotebookPanel.IContentFactory | null,
    editorServices: IEditorServices | null,
    translator: ITranslator | null,
    themeManager: IThemeManager | null,
    launcher: ILauncher | null,
    notebooks: INotebookTracker | null
  ): void => {
    const trans = (translator ?? nullTranslator).load('mlops_lab');
    let openSnapshot: SnapshotOpener | null = null;
    let openOutput: ((execution: Execution) => void) | undefined;
    const jobsApi = new JobsClient(app.serviceManager.serverSettings);
    const schedulesApi = new SchedulesClient(app.serviceManager.serverSettings);
    if (rendermime && contentFactory && editorServices) {
      const services = {
        rendermime,
        contentFactory,
        mimeTypeService: editorServices.mimeTypeService,
        trans
      };
      openSnapshot = (run, notebook) => {
        const snapshot = createSnapshotWidget(services, run, notebook);
        const existing = Array.from(app.shell.widgets('main')).find(
          w => w.id === snapshot.id
        );
        if (existing) {
          // Already open: show it rather than opening a second copy.
          snapshot.dispose();
          app.shell.activateById(existing.id);
          return;
        }
        app.shell.add(snapshot, 'main');
        app.shell.activateById(snapshot.id);
      };
      openOutput = execution => {
        const id = `mlops-lab-output-${execution.id}`;
        if (execution.state !== 'QUEUED' && execution.state !== 'RUNNING') {
          // A finished output does not change: show the open one.
          const open = Array.from(app.shell.widgets('main')).find(
            w => w.id === id
          );
          if (open) {
            app.shell.activateById(id);
            return;
          }
        }
        jobsApi.outputNotebook(execution.id).then(
          output => {
            Array.from(app.shell.widgets('main'))
              .find(w => w.id === id)
              ?.dispose();
            const widget = createReadOnlyNotebookWidget(
              services,
              {
                id,
                label: trans.__(
                  '%1 (output %2, read-only)',
                  execution.notebook.split('/').pop() ?? execution.notebook,
                  execution.id.slice(0, 8)
                ),
                caption: trans.__(
                  'Output notebook of execution %1 (%2): %3. Read-only.',
                  execution.id,
                  execution.state,
                  output.path
                )
              },
              output.content
            );
            app.shell.add(widget, 'main');
            app.shell.activateById(id);
          },
          (reason: unknown) => {
            console.error(
              'mlops-lab: cannot open the output notebook.',
              reason
            );
            void showErrorMessage(
              trans.__('Output notebook of %1', execution.id.slice(0, 8)),
              reason instanceof Error ? reason.message : String(reason)
            );
          }
        );
      };
    }

    const model: SidebarModel = new SidebarModel({
      api,
      trans,
      isVisible: (): boolean => widget.isVisible
    });
    // The sidebar lists notebook runs only; their model runs are in the explorer.
    const runsModel = new RunsModel({
      api,
      trans,
      stateDB,
      openSnapshot,
      baseFilter: TOP_LEVEL_FILTER
    });
    const jobsModel = new JobsModel({
      api: jobsApi,
      trans,
      isVisible: (): boolean => widget.isVisible
    });
    const schedulesModel = new SchedulesModel({
      api: schedulesApi,
      jobsApi,
      trans,
      isVisible: (): boolean => widget.isVisible,
      // A slot fired: its execution shows in the list below without waiting.
      onFired: () => void jobsModel.refresh()
    });
    const widget: SidebarWidget = new SidebarWidget({
      model,
      runsModel,
      jobsModel,
      schedulesModel,
      onOpenOutput: openOutput,
      trans,
      onOpenExplorer: () => {
        void app.commands.execute(CommandIDs.openRunsExplorer, {
          experimentId: runsModel.state.experimentId ?? ''
        });
      },
      onOpenRun: (experimentId, runId) => {
        void app.commands.execute(CommandIDs.openRunsExplorer, {
          experimentId,
          runId
        });
      }
    });
    /** Shows the sidebar, where a submit's executions and schedules appear. */
    const showSidebar = (): void => {
      if (labShell) {
        labShell.activateById(SIDEBAR_ID);
      } else {
        app.shell.activateById(SIDEBAR_ID);
      }
    };
    app.docRegistry.addWidgetExtension(
      'Notebook',
      new RunAsJobButton({
        app,
        api: jobsApi,
        trans,
        onSubmitted: submission => {
          jobsModel.addSubmission(submission);
          showSidebar();
        },
        schedulesApi,
        onScheduled: schedule => {
          schedulesModel.add(schedule);
          showSidebar();
        }
      })
    );
    if (notebooks) {
      saveBeforeJobMagic(notebooks);
      const follow = (): void =>
        widget.setCurrentNotebook(
          notebooks.currentWidget?.context.path ?? null
        );
      notebooks.currentChanged.connect(follow);
      follow();
    }
    widget.id = SIDEBAR_ID;
    widget.title.icon = mlopsIcon;
    widget.title.caption = trans.__('MLOps');
    widget.title.label = '';

    app.shell.add(widget, 'left', { rank: 450 });
    restorer?.add(widget, SIDEBAR_ID);

    app.commands.addCommand(CommandIDs.openSidebar, {
      label: trans.__('Open MLOps sidebar'),
      caption: trans.__('Show the MLOps panel in the left sidebar'),
      icon: args => (args['isPalette'] ? undefined : mlopsIcon),
      execute: showSidebar
    });
    palette?.addItem({
      command: CommandIDs.openSidebar,
      category: trans.__('MLOps')
    });

    const columns = new ColumnChoices(stateDB);
    const explorers = new WidgetTracker<MainAreaWidget<ReactWidget>>({
      namespace: 'mlops-lab-explorer'
    });
    let explorerModel: RunsModel | null = null;
    app.commands.addCommand(CommandIDs.openRunsExplorer, {
      label: args =>
        args['isLauncher']
          ? trans.__('Runs explorer')
          : trans.__('Open Runs explorer'),
      caption: trans.__(
        'The runs of an experiment in the main area: nested child runs, chosen columns, comparison'
      ),
      icon: args => (args['isPalette'] ? undefined : mlopsIcon),
      execute: async args => {
        const experimentId =
          typeof args['experimentId'] === 'string' ? args['experimentId'] : '';
        const runId = typeof args['runId'] === 'string' ? args['runId'] : '';
        let explorer = explorers.find(w => w.id === EXPLORER_ID);
        if (!explorer || !explorerModel) {
          explorerModel = new RunsModel({ api, trans, stateDB, openSnapshot });
          explorerModel.setPageSize(runsModel.pageSize);
          explorer = createExplorerWidget({
            model: explorerModel,
            columns,
            trans,
            themeManager
          });
          void explorers.add(explorer);
          app.shell.add(explorer, 'main');
        }
        app.shell.activateById(explorer.id);
        const target = explorerModel;
        if (experimentId && target.state.experimentId !== experimentId) {
          await target.selectExperiment(experimentId, false);
        }
        if (runId) {
          await target.showDetails(runId);
        }
      }
    });
    palette?.addItem({
      command: CommandIDs.openRunsExplorer,
      category: trans.__('MLOps')
    });
    launcher?.add({
      command: CommandIDs.openRunsExplorer,
      category: trans.__('Other'),
      rank: 50
    });

    // The poll's first tick checks the server at once.
    model.setRefreshInterval(DEFAULT_REFRESH_INTERVAL);
    jobsModel.start();
    schedulesModel.start();

    if (settingRegistry) {
      settingRegistry
        .load(SIDEBAR_PLUGIN_ID)
        .then(settings => {
          const apply = (): void => {
            const seconds = settings.get('refreshInterval').composite;
            model.setRefreshInterval(
              typeof seconds === 'number' ? seconds : DEFAULT_REFRESH_INTERVAL
            );
            const pageSize = settings.get('runsPageSize').composite;
            const size =
              typeof pageSize === 'number' ? pageSize : DEFAULT_PAGE_SIZE;
            runsModel.setPageSize(size);
            // The explorer open now follows the setting too.
            if (explorerModel && !explorerModel.isDisposed) {
              explorerModel.setPageSize(size);
            }
          };
          apply();
          settings.changed.connect(apply);
        })
        .catch(reason => {
          console.error(
            'mlops-lab: could not load the sidebar settings.',
            reason
          );
        });
    }
  }
};

const plugins: JupyterFrontEndPlugin<unknown>[] = [apiPlugin, sidebarPlugin];
export default plugins;
