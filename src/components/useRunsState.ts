/**
 * A React hook following the Runs model's state, disconnecting on unmount.
 */
import { useEffect, useState } from 'react';

import type { IRunsState, RunsModel } from '../runs/model';

export function useRunsState(model: RunsModel): IRunsState {
  const [state, setState] = useState<IRunsState>(model.state);
  useEffect(() => {
    const onChanged = (_: RunsModel, next: IRunsState): void => {
      setState(next);
    };
    model.stateChanged.connect(onChanged);
    setState(model.state);
    return () => {
      model.stateChanged.disconnect(onChanged);
    };
  }, [model]);
  return state;
}
