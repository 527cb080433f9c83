/**
 * The Run-as-job form's fields as the server's recorded parameters of
 * `train.ipynb` fill them, and a user's edit of one: what the run and the
 * schedule form tests both start from.
 */
import { IField, initialFields } from '../jobs/form';
import { jobParametersAnswer } from './recorded';

export function fields(): IField[] {
  return initialFields(jobParametersAnswer().parameters);
}

/** `all` with the field `name` changed as a user would change it. */
export function edit(
  all: IField[],
  name: string,
  change: Partial<IField>
): IField[] {
  return all.map(f => (f.name === name ? { ...f, ...change } : f));
}
