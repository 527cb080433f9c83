/**
 * The Jobs section's state: the recent executions, refreshed by polling.
 *
 * It polls `GET /executions` every second while one is QUEUED or RUNNING (the
 * cells-done counter moves), and every 10 s otherwise (a job submitted from the
 * magic or the CLI shows up without a reload); while the sidebar is hidden it
 * waits. An execution's log, once opened, is read from its last offset on each
 * tick until the server says it is complete.
 */
import type { TranslationBundle } from '@jupyterlab/translation';
import { UUID } from '@lumino/coreutils';

import type { Execution, Submission } from '../api/types';
import { messageOf } from '../request';
import type { IJobsAPI } from './client';
import { IPolledState, PolledModel } from './polledModel';

/** Poll delays in ms: while something runs, and when all is finished. */
export const ACTIVE_DELAY = 1000;
export const IDLE_DELAY = 10000;

/** How many executions the section lists. */
export const LIST_SIZE = 30;

/** The executions listed; `busy` holds the ids whose cancel or re-run is on its way. */
export interface IJobsState extends IPolledState {
  executions: Execution[];
  /** null until the first answer. */
  loaded: boolean;
  /** Logs opened in the section, by execution id. */
  logs: Record<string, { text: string; offset: number; complete: boolean }>;
}

export function isActive(execution: Execution): boolean {
  return execution.state === 'QUEUED' || execution.state === 'RUNNING';
}

export class JobsModel extends PolledModel<IJobsState> {
  constructor(options: {
    api: IJobsAPI;
    trans: TranslationBundle;
    /** Whether the section can be seen; no polling while it cannot. */
    isVisible?: () => boolean;
  }) {
    super({
      initial: {
        executions: [],
        loaded: false,
        error: null,
        logs: {},
        busy: []
      },
      trans: options.trans,
      isVisible: options.isVisible
    });
    this._api = options.api;
  }

  /** The delay before the next poll given what is listed. */
  nextDelay(): number {
    return this.state.executions.some(isActive) ? ACTIVE_DELAY : IDLE_DELAY;
  }

  /** Fetch the list, then read on the open logs. */
  protected async read(): Promise<void> {
    try {
      const page = await this._api.executions({ maxResults: LIST_SIZE });
      this.setState({ executions: page.executions, loaded: true, error: null });
    } catch (reason) {
      this.setState({ loaded: true, error: messageOf(reason) });
    }
    await this._readLogs();
  }

  /** Put a submit's executions at the top at once, and poll fast from now. */
  addSubmission(submission: Submission): void {
    const ids = new Set(submission.executions.map(e => e.id));
    this.setState({
      executions: [
        ...submission.executions,
        ...this.state.executions.filter(e => !ids.has(e.id))
      ]
    });
    void this.refresh();
  }

  async cancel(id: string): Promise<void> {
    await this.busyWhile(id, async () => {
      const execution = await this._api.cancel(id);
      this.setState({
        executions: this.state.executions.map(e =>
          e.id === id ? execution : e
        )
      });
    });
  }

  async rerun(id: string): Promise<void> {
    await this.busyWhile(id, async () => {
      const submission = await this._api.rerun(id, newKey());
      this.addSubmission(submission);
    });
  }

  /** Show or hide an execution's log; shown logs follow the execution. */
  async toggleLog(id: string): Promise<void> {
    const logs = { ...this.state.logs };
    if (logs[id]) {
      delete logs[id];
      this.setState({ logs });
      return;
    }
    logs[id] = { text: '', offset: 0, complete: false };
    this.setState({ logs });
    await this._readLogs();
  }

  private async _readLogs(): Promise<void> {
    for (const [id, log] of Object.entries(this.state.logs)) {
      if (log.complete) {
        continue;
      }
      try {
        const slice = await this._api.log(id, log.offset);
        const current = this.state.logs[id];
        if (!current || current.offset !== log.offset) {
          continue; // closed, or read by another tick meanwhile
        }
        this.setState({
          logs: {
            ...this.state.logs,
            [id]: {
              text: current.text + slice.text,
              offset: slice.next_offset,
              complete: slice.complete
            }
          }
        });
      } catch (reason) {
        this.setState({
          logs: {
            ...this.state.logs,
            [id]: {
              text: `${log.text}\n[${messageOf(reason)}]`,
              offset: log.offset,
              complete: true
            }
          }
        });
      }
    }
  }

  private readonly _api: IJobsAPI;
}

/**
 * A fresh idempotency key. Lumino's uuid4 rather than `crypto.randomUUID`, which
 * browsers only offer on https or localhost: JupyterLab is often served over
 * plain http on a remote host.
 */
export function newKey(): string {
  return UUID.uuid4();
}
