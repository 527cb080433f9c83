/** The message under a form field the server or the form found wrong. */
import React from 'react';

export function FieldError(props: { error?: string }): JSX.Element | null {
  return props.error ? (
    <span className="jp-MlopsLab-fieldError" role="alert">
      {props.error}
    </span>
  ) : null;
}
