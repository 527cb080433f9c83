/**
 * What a runs view (the sidebar's list, the explorer's table) says about its
 * page besides the runs: a notice, a failure, loading, or that there are none.
 */
import React from 'react';
import type { TranslationBundle } from '@jupyterlab/translation';

import type { RunsPage } from '../api/types';
import type { IRunsState } from '../runs/model';

/** What a runs view says for an experiment without runs. */
export function noRunsMessage(trans: TranslationBundle): string {
  return trans.__(
    'No runs yet: add `%%load_ext mlops_lab` and `%%mlops track` to a notebook.'
  );
}

/** The page to show: the loaded one, or the previous one while the next loads. */
export function shownPage(page: IRunsState['page']): RunsPage | null {
  if (page.status === 'ready') {
    return page.value;
  }
  return page.status === 'loading' ? (page.previous ?? null) : null;
}

export interface IPageStatusProps {
  state: IRunsState;
  /** What to say when a filter leaves no run. */
  noneMatch: string;
  trans: TranslationBundle;
}

export function PageStatus(props: IPageStatusProps): JSX.Element {
  const { state, trans } = props;
  const { page } = state;
  const shown = shownPage(page);
  return (
    <>
      {state.notice && (
        <p className="jp-MlopsLab-notice" role="status">
          {state.notice}
        </p>
      )}
      {page.status === 'failed' && (
        <div className="jp-MlopsLab-problem jp-MlopsLab-runsError" role="alert">
          {page.message}
        </div>
      )}
      {page.status === 'loading' && !shown && (
        <p className="jp-MlopsLab-loading">{trans.__('Loading the runs…')}</p>
      )}
      {shown && shown.runs.length === 0 && (
        <p className="jp-MlopsLab-placeholder jp-MlopsLab-noRuns">
          {state.filter ? props.noneMatch : noRunsMessage(trans)}
        </p>
      )}
    </>
  );
}
