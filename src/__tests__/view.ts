/**
 * The jest tests' way of showing a React view in the page and acting on it as
 * a user would, shared so each spec file does not carry its own copy.
 */
import { ReactWidget } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

/** Render `element` in a widget attached to the page; dispose it after the test. */
export function render(element: JSX.Element): Widget {
  const widget = ReactWidget.create(element);
  Widget.attach(widget, document.body);
  return widget;
}

/**
 * Wait until `check` holds: React renders, and the fakes answer, a few ticks
 * after the action that asked for them.
 *
 * @param what - what was awaited, for the message when it never comes
 */
export async function waitFor(
  check: () => boolean,
  what: () => string = () => 'the view to render',
  timeout = 2000
): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeout) {
      throw new Error(`Timed out waiting for ${what()}.`);
    }
    await new Promise(resolve => setTimeout(resolve, 10));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}

/**
 * Set the value of the control named `name` under `root` as a user would: React
 * tracks the value a setter wrote, so the prototype's setter is called, then
 * the event React listens to (`input` for a text field, `change` for a select).
 */
export function type(root: HTMLElement, name: string, value: string): void {
  const element = root.querySelector<HTMLInputElement | HTMLSelectElement>(
    `[name="${name}"]`
  );
  if (!element) {
    throw new Error(`No control named ${name} is shown.`);
  }
  const select = element instanceof HTMLSelectElement;
  const prototype = select
    ? HTMLSelectElement.prototype
    : HTMLInputElement.prototype;
  Object.getOwnPropertyDescriptor(prototype, 'value')!.set!.call(
    element,
    value
  );
  element.dispatchEvent(
    new Event(select ? 'change' : 'input', { bubbles: true })
  );
}
