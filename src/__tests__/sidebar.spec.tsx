/**
 * The sidebar shows the tracking URI from /health, and the install hint when the
 * server extension does not answer.
 */
import { ServerConnection } from '@jupyterlab/services';
import { Widget } from '@lumino/widgets';

import type { Health } from '../api/types';
import { SidebarWidget } from '../components/Sidebar';
import { SidebarModel } from '../model';
import { RunsModel } from '../runs/model';
import { MISSING_EXTENSION_MESSAGE } from '../status';
import type { IMlopsLabAPI } from '../tokens';
import { FakeApi } from './fakeApi';

/** The fake API answering `health` as given. */
function apiWith(health: () => Promise<Health>): IMlopsLabAPI {
  const api = new FakeApi();
  api.health = health;
  return api;
}

const HEALTH: Health = {
  version: '0.1.0',
  tracking_uri: 'postgresql://u:***@db/mlflow',
  mlflow_ui_url: null,
  settings: [],
  stores: [
    {
      name: 'tracking',
      uri: 'postgresql://u:***@db/mlflow',
      ok: true,
      message: 'answered'
    },
    {
      name: 'lab',
      uri: 'sqlite:////x/.mlops/lab.db',
      ok: false,
      message: 'disk I/O error'
    }
  ],
  config_error: null
};

async function waitFor(check: () => boolean, timeout = 2000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeout) {
      throw new Error('Timed out waiting for the sidebar to render.');
    }
    await new Promise(resolve => setTimeout(resolve, 10));
  }
}

function mount(api: IMlopsLabAPI): SidebarWidget {
  const widget = new SidebarWidget(
    new SidebarModel(api),
    new RunsModel({ api })
  );
  Widget.attach(widget, document.body);
  return widget;
}

describe('SidebarWidget', () => {
  let widget: SidebarWidget | null = null;

  afterEach(() => {
    widget?.dispose();
    widget = null;
  });

  it('shows the tracking URI, the stores and the three sections', async () => {
    widget = mount(apiWith(async () => HEALTH));
    await widget.model.refresh();
    const node = widget.node;
    await waitFor(
      () => node.querySelector('.jp-MlopsLab-trackingUri') !== null
    );

    expect(node.querySelector('.jp-MlopsLab-trackingUri')?.textContent).toBe(
      'postgresql://u:***@db/mlflow'
    );
    expect(
      node.querySelector('.jp-MlopsLab-store-down')?.textContent
    ).toContain('lab: not answering (disk I/O error)');
    const titles = Array.from(
      node.querySelectorAll('.jp-MlopsLab-sectionTitle')
    ).map(element => element.textContent);
    expect(titles).toEqual(['Runs', 'Jobs', 'Models']);
  });

  it('fetches the experiments again when shown again', async () => {
    const api = new FakeApi();
    widget = mount(api);
    await widget.runsModel.loadExperiments();
    const names = (): string[] => {
      const state = widget!.runsModel.state.experiments;
      return state.status === 'ready' ? state.value.map(e => e.name) : [];
    };
    expect(names()).toEqual(['iris', 'Default']);

    widget.hide();
    api.experimentList = {
      experiments: [
        {
          experiment_id: '2',
          name: 'quickstart.ipynb',
          lifecycle_stage: 'active',
          creation_time: 3,
          last_update_time: 3
        },
        ...api.experimentList.experiments
      ]
    };
    widget.show();
    await waitFor(() => names().length === 3);
    expect(names()[0]).toBe('quickstart.ipynb');
  });

  it('says how to install the server extension when it does not answer', async () => {
    widget = mount(
      apiWith(async () => {
        throw new ServerConnection.NetworkError(
          new TypeError('Failed to fetch')
        );
      })
    );
    await widget.model.refresh();
    const node = widget.node;
    await waitFor(() => node.querySelector('.jp-MlopsLab-problem') !== null);

    expect(node.querySelector('.jp-MlopsLab-problem')?.textContent).toBe(
      MISSING_EXTENSION_MESSAGE
    );
  });

  it('stops listening to the model once disposed', async () => {
    const api = apiWith(async () => HEALTH);
    const model = new SidebarModel(api);
    const runsModel = new RunsModel({ api });
    widget = new SidebarWidget(model, runsModel);
    Widget.attach(widget, document.body);
    widget.dispose();
    widget = null;

    expect(model.isDisposed).toBe(true);
    expect(runsModel.isDisposed).toBe(true);
    await model.refresh();
    expect(model.state).toEqual({ status: 'loading' });
  });
});
