/**
 * A select over param or metric keys (the compare chart, parallel coordinates
 * and the sidebar's list each let the user pick one).
 */
import React from 'react';
import { HTMLSelect } from '@jupyterlab/ui-components';

export interface IKeySelectProps {
  keys: string[];
  value: string;
  /** The accessible name, translated. */
  label: string;
  className?: string;
  onChange: (key: string) => void;
}

export function KeySelect(props: IKeySelectProps): JSX.Element {
  return (
    <HTMLSelect
      className={props.className}
      aria-label={props.label}
      value={props.value}
      onChange={event => props.onChange(event.currentTarget.value)}
    >
      {props.keys.map(key => (
        <option key={key} value={key}>
          {key}
        </option>
      ))}
    </HTMLSelect>
  );
}
