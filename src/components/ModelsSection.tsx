/**
 * The "Models" section of the sidebar (empty in the foundation phase).
 */
import React from 'react';

import { CollapsibleSection } from './CollapsibleSection';

export function ModelsSection(): JSX.Element {
  return (
    <CollapsibleSection title="Models" name="models">
      <p className="jp-MlopsLab-placeholder">
        Registered models, their versions and aliases will appear here.
      </p>
    </CollapsibleSection>
  );
}
