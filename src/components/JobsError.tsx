/**
 * A failed refresh or action in the Jobs section (executions, schedules, an
 * opened schedule), announced to screen readers; nothing when there is none.
 */
import React from 'react';

export function JobsError(props: { error: string | null }): JSX.Element | null {
  return props.error ? (
    <div className="jp-MlopsLab-jobsError" role="alert">
      {props.error}
    </div>
  ) : null;
}
