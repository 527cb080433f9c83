/**
 * The details of one run: what it was, where it came from (notebook, git),
 * its params, metrics, datasets and tags, with "Open snapshot" and "Open in MLflow".
 */
import React from 'react';
import {
  closeIcon,
  launchIcon,
  notebookIcon,
  ToolbarButtonComponent
} from '@jupyterlab/ui-components';

import type { DatasetInput, RunDetail } from '../api/types';
import { runLabel } from '../runs/chartData';
import { formatMetric, formatTime } from '../runs/format';
import type { IDetailState } from '../runs/model';

export interface IRunDetailsProps {
  detail: IDetailState;
  canOpenSnapshot: boolean;
  onOpenSnapshot: () => void;
  onClose: () => void;
}

export function RunDetails(props: IRunDetailsProps): JSX.Element {
  const { detail } = props;
  const run = detail.run.status === 'ready' ? detail.run.value : null;
  return (
    <div className="jp-MlopsLab-runDetails" data-run-id={detail.runId}>
      <div className="jp-MlopsLab-detailsHeader">
        <h3>{run ? runLabel(run) : detail.runId}</h3>
        <ToolbarButtonComponent
          className="jp-MlopsLab-closeDetails"
          icon={closeIcon}
          tooltip="Close the details"
          onClick={props.onClose}
        />
      </div>
      {detail.run.status === 'loading' && (
        <p className="jp-MlopsLab-loading">Loading the run…</p>
      )}
      {detail.run.status === 'failed' && (
        <div className="jp-MlopsLab-problem" role="alert">
          {detail.run.message}
        </div>
      )}
      {run && (
        <RunFacts
          run={run}
          canOpenSnapshot={props.canOpenSnapshot}
          onOpenSnapshot={props.onOpenSnapshot}
        />
      )}
      {detail.snapshotError && (
        <div
          className="jp-MlopsLab-problem jp-MlopsLab-snapshotError"
          role="alert"
        >
          {detail.snapshotError}
        </div>
      )}
    </div>
  );
}

function RunFacts(props: {
  run: RunDetail;
  canOpenSnapshot: boolean;
  onOpenSnapshot: () => void;
}): JSX.Element {
  const { run } = props;
  const hasSnapshot = Boolean(run.notebook_artifact);
  return (
    <>
      <div className="jp-MlopsLab-detailsActions">
        {props.canOpenSnapshot && hasSnapshot && (
          <button
            className="jp-mod-styled jp-mod-accept jp-MlopsLab-openSnapshot"
            title="Open the notebook as logged with this run, read-only"
            onClick={props.onOpenSnapshot}
          >
            <notebookIcon.react tag="span" className="jp-MlopsLab-buttonIcon" />
            Open snapshot
          </button>
        )}
        {run.mlflow_url && (
          <a
            className="jp-MlopsLab-openMlflow"
            href={run.mlflow_url}
            target="_blank"
            rel="noreferrer"
          >
            Open in MLflow
            <launchIcon.react tag="span" className="jp-MlopsLab-buttonIcon" />
          </a>
        )}
      </div>
      <dl className="jp-MlopsLab-facts">
        <dt>Run id</dt>
        <dd className="jp-MlopsLab-runId">{run.run_id}</dd>
        <dt>Status</dt>
        <dd>{run.status}</dd>
        <dt>Started</dt>
        <dd>{formatTime(run.start_time)}</dd>
        {run.end_time !== null && (
          <>
            <dt>Ended</dt>
            <dd>{formatTime(run.end_time)}</dd>
          </>
        )}
        {run.user && (
          <>
            <dt>User</dt>
            <dd>{run.user}</dd>
          </>
        )}
        <dt>Notebook</dt>
        <dd className="jp-MlopsLab-notebookPath">
          {run.notebook_path ?? run.source_name ?? '—'}
        </dd>
        <dt>Git commit</dt>
        <dd
          className="jp-MlopsLab-gitCommit"
          title={run.git_commit ?? undefined}
        >
          {run.git_commit ? run.git_commit.slice(0, 12) : '—'}
        </dd>
        <dt>Git branch</dt>
        <dd>{run.git_branch ?? '—'}</dd>
        <dt>Uncommitted changes</dt>
        <dd className="jp-MlopsLab-gitDirty">
          {run.git_dirty === null ? '—' : run.git_dirty ? 'yes' : 'no'}
        </dd>
      </dl>
      <KeyValues
        title="Params"
        name="params"
        entries={Object.entries(run.params)}
      />
      <KeyValues
        title="Metrics"
        name="metrics"
        entries={Object.entries(run.metrics).map(([k, v]) => [
          k,
          formatMetric(v)
        ])}
      />
      <Datasets datasets={run.datasets} />
      <details className="jp-MlopsLab-tags">
        <summary>Tags ({Object.keys(run.tags).length})</summary>
        <KeyValues title="" name="tags" entries={Object.entries(run.tags)} />
      </details>
    </>
  );
}

function KeyValues(props: {
  title: string;
  name: string;
  entries: [string, string][];
}): JSX.Element | null {
  const entries = [...props.entries].sort(([a], [b]) => a.localeCompare(b));
  return (
    <div className={`jp-MlopsLab-kv jp-MlopsLab-kv-${props.name}`}>
      {props.title && <h4>{props.title}</h4>}
      {entries.length === 0 ? (
        <p className="jp-MlopsLab-placeholder">None.</p>
      ) : (
        <table>
          <tbody>
            {entries.map(([key, value]) => (
              <tr key={key} data-key={key}>
                <th scope="row">{key}</th>
                <td>{value}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function Datasets(props: { datasets: DatasetInput[] }): JSX.Element {
  return (
    <div className="jp-MlopsLab-datasets">
      <h4>Datasets</h4>
      {props.datasets.length === 0 ? (
        <p className="jp-MlopsLab-placeholder">None logged.</p>
      ) : (
        <ul>
          {props.datasets.map((dataset, index) => (
            <li key={`${dataset.name}-${dataset.digest}-${index}`}>
              <span className="jp-MlopsLab-datasetName">{dataset.name}</span>
              {dataset.context && (
                <span className="jp-MlopsLab-datasetContext">
                  {' '}
                  ({dataset.context})
                </span>
              )}
              <div>
                digest{' '}
                <code className="jp-MlopsLab-datasetDigest">
                  {dataset.digest}
                </code>
              </div>
              {dataset.source_type && (
                <div
                  className="jp-MlopsLab-datasetSource"
                  title={dataset.source ?? undefined}
                >
                  source: {dataset.source_type}
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
