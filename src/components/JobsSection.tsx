/**
 * The "Jobs" section of the sidebar (empty in the foundation phase).
 */
import React from 'react';

import { CollapsibleSection } from './CollapsibleSection';

export function JobsSection(): JSX.Element {
  return (
    <CollapsibleSection title="Jobs" name="jobs">
      <p className="jp-MlopsLab-placeholder">
        Notebook jobs, sweeps and schedules will appear here.
      </p>
    </CollapsibleSection>
  );
}
