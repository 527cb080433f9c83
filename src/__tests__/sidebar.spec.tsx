/**
 * The sidebar shows /health as the server answers it, tells a Jupyter server
 * that cannot be reached from a missing extension, keeps polling until the
 * server is back, and stands by while hidden.
 */
import { ServerConnection } from '@jupyterlab/services';
import { nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { SidebarWidget } from '../components/Sidebar';
import { SidebarModel } from '../model';
import { errorFromResponse } from '../request';
import { RunsModel } from '../runs/model';
import { missingExtensionMessage, unreachableMessage } from '../status';
import { FakeApi } from './fakeApi';
import { experimentsAnswer, healthWith } from './recorded';
import { waitFor } from './view';

const trans = nullTranslator.load('mlops_lab');

function networkError(): ServerConnection.NetworkError {
  return new ServerConnection.NetworkError(new TypeError('Failed to fetch'));
}

function mount(api: FakeApi, isVisible?: () => boolean): SidebarWidget {
  const widget = new SidebarWidget({
    model: new SidebarModel({ api, trans, isVisible }),
    runsModel: new RunsModel({ api, trans }),
    trans
  });
  Widget.attach(widget, document.body);
  return widget;
}

function text(widget: Widget, selector: string): string | null | undefined {
  return widget.node.querySelector(selector)?.textContent;
}

describe('SidebarWidget', () => {
  let widget: SidebarWidget | null = null;

  afterEach(() => {
    widget?.dispose();
    widget = null;
  });

  it('shows the recorded health answer and only the Runs section', async () => {
    widget = mount(new FakeApi());
    await widget.model.refresh();
    await waitFor(
      () => text(widget!, '.jp-MlopsLab-trackingUri') !== undefined
    );

    expect(text(widget, '.jp-MlopsLab-trackingUri')).toBe(
      'sqlite:///<root>/.mlops/mlflow.db'
    );
    const titles = Array.from(
      widget.node.querySelectorAll('.jp-MlopsLab-sectionTitle')
    ).map(element => element.textContent);
    expect(titles).toEqual(['Runs']);
  });

  it('says which store is not created yet rather than "all answer"', async () => {
    const api = new FakeApi();
    api.onHealth = async () =>
      healthWith(
        { lab: 'not_created', tracking: 'down' },
        { tracking: 'connection refused' }
      );
    widget = mount(api);
    await widget.model.refresh();
    await waitFor(() => text(widget!, '.jp-MlopsLab-summary') !== undefined);

    expect(text(widget, '.jp-MlopsLab-summary')).toBe(
      '1 of 3 stores answer; tracking: down (connection refused); ' +
        'lab: not created yet (created on first use).'
    );
    expect(
      widget.node
        .querySelector('[data-store="lab"]')
        ?.getAttribute('data-state')
    ).toBe('not_created');
  });

  it('says the Jupyter server cannot be reached, keeps polling and recovers', async () => {
    const api = new FakeApi();
    let serverUp = false;
    api.onHealth = async () => {
      if (!serverUp) {
        throw networkError();
      }
      return healthWith({});
    };
    widget = mount(api);
    widget.model.setRefreshInterval(0.05);
    await waitFor(() => text(widget!, '.jp-MlopsLab-problem') !== undefined);

    expect(text(widget, '.jp-MlopsLab-problem')).toBe(
      unreachableMessage(trans)
    );
    expect(text(widget, '.jp-MlopsLab-problem')).not.toContain('pip install');

    serverUp = true;
    await waitFor(() => text(widget!, '.jp-MlopsLab-summary') !== undefined);
    expect(text(widget, '.jp-MlopsLab-summary')).toBe('All 3 stores answer.');
    expect(widget.node.querySelector('.jp-MlopsLab-problem')).toBeNull();
  });

  it('gives the install hint on a 404 that is not ours', async () => {
    const api = new FakeApi();
    api.onHealth = async () => {
      throw errorFromResponse(new Response('', { status: 404 }), null);
    };
    widget = mount(api);
    await widget.model.refresh();
    await waitFor(() => text(widget!, '.jp-MlopsLab-problem') !== undefined);

    expect(text(widget, '.jp-MlopsLab-problem')).toBe(
      missingExtensionMessage(trans)
    );
  });

  it('does not poll while the panel is hidden', async () => {
    const api = new FakeApi();
    let calls = 0;
    api.onHealth = async () => {
      calls += 1;
      return healthWith({});
    };
    let visible = false;
    widget = mount(api, () => visible);
    widget.model.setRefreshInterval(0.02);
    await new Promise(resolve => setTimeout(resolve, 200));
    expect(calls).toBe(0);

    visible = true;
    await waitFor(() => calls >= 2);
  });

  it('fetches the experiments again when shown again', async () => {
    const api = new FakeApi();
    widget = mount(api);
    await widget.runsModel.loadExperiments();
    const names = (): string[] => {
      const state = widget!.runsModel.state.experiments;
      return state.status === 'ready' ? state.value.map(e => e.name) : [];
    };
    expect(names()).toEqual(['exp', 'Default']);

    widget.hide();
    const more = experimentsAnswer();
    more.experiments = [
      { ...more.experiments[0], experiment_id: '2', name: 'quickstart.ipynb' },
      ...more.experiments
    ];
    api.onExperiments = async () => more;
    widget.show();
    await waitFor(() => names().length === 3);
    expect(names()[0]).toBe('quickstart.ipynb');
  });

  it('stops listening to the model and polling once disposed', async () => {
    const api = new FakeApi();
    const model = new SidebarModel({ api, trans });
    const runsModel = new RunsModel({ api, trans });
    widget = new SidebarWidget({ model, runsModel, trans });
    Widget.attach(widget, document.body);
    widget.dispose();
    widget = null;

    expect(model.isDisposed).toBe(true);
    expect(model.poll.isDisposed).toBe(true);
    expect(runsModel.isDisposed).toBe(true);
    await model.refresh();
    expect(model.state).toEqual({ status: 'loading' });
  });
});
