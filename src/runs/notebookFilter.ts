/**
 * The MLflow filter for "this notebook's runs".
 *
 * `%mlops track` tags a run with the notebook's absolute path
 * (`mlflow.source.name`); JupyterLab knows the path relative to the server root,
 * so the filter matches the tag's end. LIKE's `_` matches any one character, so a
 * path with underscores may also match a sibling path differing only there: rare
 * enough for a sidebar list, never a wrong run hidden.
 */

/** `tags.mlflow.source.name LIKE '%/<path>'`, or `''` without a notebook. */
export function notebookFilter(path: string | null): string {
  if (!path) {
    return '';
  }
  // MLflow's filter strings are single-quoted; a quote is doubled inside one.
  const quoted = `%/${path.replace(/^\/+/, '')}`.replace(/'/g, "''");
  return `tags.\`mlflow.source.name\` LIKE '${quoted}'`;
}
