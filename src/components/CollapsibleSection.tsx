/**
 * A titled section of the sidebar that folds open and closed.
 */
import React, { useState } from 'react';
import { caretDownIcon, caretRightIcon } from '@jupyterlab/ui-components';

export interface ICollapsibleSectionProps {
  /** The heading, e.g. "Runs". */
  title: string;
  /** A stable name for CSS and tests, e.g. "runs". */
  name: string;
  children?: React.ReactNode;
}

export function CollapsibleSection(
  props: ICollapsibleSectionProps
): JSX.Element {
  const [open, setOpen] = useState(true);
  const Caret = open ? caretDownIcon : caretRightIcon;
  const bodyId = `jp-MlopsLab-section-${props.name}`;
  return (
    <section
      className={`jp-MlopsLab-section jp-MlopsLab-section-${props.name}`}
      data-open={open}
    >
      <button
        className="jp-MlopsLab-sectionHeader"
        aria-expanded={open}
        aria-controls={bodyId}
        onClick={() => setOpen(!open)}
      >
        <Caret.react tag="span" className="jp-MlopsLab-caret" />
        <span className="jp-MlopsLab-sectionTitle">{props.title}</span>
      </button>
      {open && (
        <div id={bodyId} className="jp-MlopsLab-sectionBody">
          {props.children}
        </div>
      )}
    </section>
  );
}
