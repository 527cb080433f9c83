/**
 * The REST client behind the `IMlopsLabAPI` token.
 */
import { ServerConnection } from '@jupyterlab/services';

import { requestAPI } from '../request';
import type { IMlopsLabAPI } from '../tokens';
import type { Health } from './types';

/**
 * Calls `/mlops-lab/api/...` on the Jupyter server JupyterLab is connected to.
 */
export class MlopsLabClient implements IMlopsLabAPI {
  /**
   * @param settings - the server connection settings; JupyterLab's by default
   *   (tests pass settings carrying a fake `fetch`)
   */
  constructor(settings?: ServerConnection.ISettings) {
    this._settings = settings ?? ServerConnection.makeSettings();
  }

  /** The server connection settings in use. */
  get serverSettings(): ServerConnection.ISettings {
    return this._settings;
  }

  health(): Promise<Health> {
    return requestAPI<Health>('health', { method: 'GET' }, this._settings);
  }

  private readonly _settings: ServerConnection.ISettings;
}
