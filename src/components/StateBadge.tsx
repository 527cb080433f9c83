/**
 * An execution's or a schedule's state as the Jobs section shows it: the word,
 * colored by a class per state (`jp-MlopsLab-jobState-running`...), so every
 * list shows a state the same way.
 */
import React from 'react';

export function StateBadge(props: {
  state: string;
  /** Whose state: the class names differ, the states being other words. */
  of?: 'job' | 'schedule';
}): JSX.Element {
  const of = props.of ?? 'job';
  return (
    <span
      className={`jp-MlopsLab-jobState jp-MlopsLab-${of}State-${props.state.toLowerCase()}`}
    >
      {props.state}
    </span>
  );
}
