/**
 * The button that opens an execution's output notebook, in the executions list
 * and under an opened schedule alike. Disabled while the execution is queued:
 * no output notebook is written before it starts.
 */
import React from 'react';
import type { TranslationBundle } from '@jupyterlab/translation';

import type { Execution } from '../api/types';

export function OutputButton(props: {
  execution: Execution;
  trans: TranslationBundle;
  onOpenOutput: (execution: Execution) => void;
}): JSX.Element {
  const { execution } = props;
  return (
    <button
      className="jp-MlopsLab-linkButton jp-MlopsLab-jobOutput"
      disabled={execution.state === 'QUEUED'}
      onClick={() => props.onOpenOutput(execution)}
    >
      {props.trans.__('Output')}
    </button>
  );
}
