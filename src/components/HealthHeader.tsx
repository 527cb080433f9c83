/**
 * The top of the sidebar: tracking URI, version, each store's status and a
 * refresh button, or the reason none of that could be had.
 */
import React from 'react';
import { refreshIcon, ToolbarButtonComponent } from '@jupyterlab/ui-components';

import type { HealthState } from '../model';
import { describeStore, summarizeHealth } from '../status';

export interface IHealthHeaderProps {
  state: HealthState;
  onRefresh: () => void;
}

export function HealthHeader(props: IHealthHeaderProps): JSX.Element {
  return (
    <header className="jp-MlopsLab-header">
      <div className="jp-MlopsLab-headerTitle">
        <h2>MLOps</h2>
        <ToolbarButtonComponent
          className="jp-MlopsLab-refresh"
          icon={refreshIcon}
          tooltip="Check the server and the stores again"
          onClick={props.onRefresh}
        />
      </div>
      <HealthBody state={props.state} />
    </header>
  );
}

function HealthBody(props: { state: HealthState }): JSX.Element {
  const { state } = props;
  if (state.status === 'loading') {
    return <p className="jp-MlopsLab-loading">Checking the server…</p>;
  }
  if (state.status === 'failed') {
    return (
      <div
        className={`jp-MlopsLab-problem jp-MlopsLab-problem-${state.problem.kind}`}
        role="alert"
      >
        {state.problem.message}
      </div>
    );
  }
  const { health } = state;
  const summary = summarizeHealth(health);
  return (
    <div className="jp-MlopsLab-health">
      <dl className="jp-MlopsLab-facts">
        <dt>Tracking URI</dt>
        <dd
          className="jp-MlopsLab-trackingUri"
          title={health.tracking_uri ?? undefined}
        >
          {health.tracking_uri ?? 'not configured'}
        </dd>
        <dt>Version</dt>
        <dd className="jp-MlopsLab-version">{health.version}</dd>
        {health.mlflow_ui_url && (
          <>
            <dt>MLflow UI</dt>
            <dd>
              <a href={health.mlflow_ui_url} target="_blank" rel="noreferrer">
                {health.mlflow_ui_url}
              </a>
            </dd>
          </>
        )}
      </dl>
      {health.config_error && (
        <div
          className="jp-MlopsLab-problem jp-MlopsLab-problem-configuration"
          role="alert"
        >
          Configuration error: {health.config_error}
        </div>
      )}
      <p
        className={`jp-MlopsLab-summary jp-MlopsLab-level-${summary.level}`}
        role={summary.level === 'ok' ? undefined : 'alert'}
      >
        {summary.text}
      </p>
      <ul className="jp-MlopsLab-stores">
        {health.stores.map(store => (
          <li
            key={store.name}
            className={`jp-MlopsLab-store jp-MlopsLab-store-${store.ok ? 'ok' : 'down'}`}
            data-store={store.name}
            title={store.uri}
          >
            <span className="jp-MlopsLab-storeDot" aria-hidden="true" />
            {describeStore(store)}
            <div className="jp-MlopsLab-storeUri">{store.uri}</div>
          </li>
        ))}
      </ul>
    </div>
  );
}
