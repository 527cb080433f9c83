/**
 * The "Runs" section of the sidebar (empty in the foundation phase).
 */
import React from 'react';

import { CollapsibleSection } from './CollapsibleSection';

export function RunsSection(): JSX.Element {
  return (
    <CollapsibleSection title="Runs" name="runs">
      <p className="jp-MlopsLab-placeholder">
        Runs of the current experiment will appear here.
      </p>
    </CollapsibleSection>
  );
}
