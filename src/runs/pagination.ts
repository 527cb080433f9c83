/**
 * The page tokens behind Next and Previous.
 *
 * The server pages with opaque tokens and can only go forward, so the tokens of
 * the pages already seen are kept on a stack: Next pushes the next page's token,
 * Previous pops back to the token of the page before.
 */
export class PageTokenStack {
  /** The token of the page shown; `undefined` for the first page. */
  get current(): string | undefined {
    return this._tokens[this._tokens.length - 1];
  }

  /** The 0-based index of the page shown. */
  get pageIndex(): number {
    return this._tokens.length;
  }

  /** Is there a page before the one shown? */
  get canGoBack(): boolean {
    return this._tokens.length > 0;
  }

  /**
   * Move to the next page.
   *
   * @param nextToken - the `next_page_token` of the page shown
   * @returns the token to fetch the next page with
   */
  next(nextToken: string): string {
    this._tokens.push(nextToken);
    return nextToken;
  }

  /**
   * Move to the previous page.
   *
   * @returns the token of the page before (`undefined` for the first page)
   */
  previous(): string | undefined {
    this._tokens.pop();
    return this.current;
  }

  /** Back to the first page, e.g. when the filter, the sort or the experiment changes. */
  reset(): void {
    this._tokens = [];
  }

  private _tokens: string[] = [];
}
