/**
 * The extension's icons.
 */
import { LabIcon } from '@jupyterlab/ui-components';

import mlopsSvgstr from '../style/icons/mlops.svg';

export const mlopsIcon = new LabIcon({
  name: 'mlops-lab:mlops',
  svgstr: mlopsSvgstr
});
