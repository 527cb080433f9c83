/**
 * A React hook following a model's state through its `stateChanged` signal, and
 * disconnecting on unmount (so a disposed panel leaves no listener behind).
 */
import { useEffect, useState } from 'react';
import type { ISignal } from '@lumino/signaling';

/** What the sidebar's models have in common: a state and a signal when it changes. */
export interface IStateful<S> {
  readonly state: S;
  readonly stateChanged: ISignal<unknown, S>;
}

export function useModelState<S>(model: IStateful<S>): S {
  const [state, setState] = useState<S>(model.state);
  useEffect(() => {
    const onChanged = (_: unknown, next: S): void => {
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
