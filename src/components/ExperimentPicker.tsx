/**
 * The experiment select of the Runs section.
 */
import React from 'react';
import { HTMLSelect } from '@jupyterlab/ui-components';

import type { Experiment } from '../api/types';

export interface IExperimentPickerProps {
  experiments: Experiment[];
  value: string | null;
  onChange: (experimentId: string) => void;
}

export function ExperimentPicker(props: IExperimentPickerProps): JSX.Element {
  return (
    <label className="jp-MlopsLab-experimentPicker">
      <span className="jp-MlopsLab-label">Experiment</span>
      <HTMLSelect
        className="jp-MlopsLab-experimentSelect"
        aria-label="Experiment"
        value={props.value ?? ''}
        onChange={event => props.onChange(event.currentTarget.value)}
      >
        {props.value === null && <option value="">Choose…</option>}
        {props.experiments.map(experiment => (
          <option
            key={experiment.experiment_id}
            value={experiment.experiment_id}
          >
            {experiment.name}
          </option>
        ))}
      </HTMLSelect>
    </label>
  );
}
