/**
 * The labelled fields of the Run-as-job form (its options and its Schedule
 * tab): each is named for the request field it sets, so a server 400 whose
 * `param` names that field shows under it, and the tests find it by that name.
 */
import React from 'react';

import { FieldError } from './FieldError';

interface IFieldProps {
  /** The request field it sets: the control's name and the label's `data-param`. */
  param: string;
  label: string;
  /** A hover text saying what the choice means. */
  title?: string;
  /** The message under it, if the server or the form found it wrong. */
  error?: string;
}

/** A label around any control, then its error. */
export function FormField(
  props: IFieldProps & { children: React.ReactNode }
): JSX.Element {
  return (
    <label
      className="jp-MlopsLab-jobField"
      data-param={props.param}
      title={props.title}
    >
      <span className="jp-MlopsLab-label">{props.label}</span>
      {props.children}
      <FieldError error={props.error} />
    </label>
  );
}

/** A labelled text input. */
export function TextField(
  props: IFieldProps & {
    value: string;
    type?: 'text' | 'datetime-local';
    inputMode?: 'decimal' | 'numeric';
    placeholder?: string;
    onChange: (value: string) => void;
  }
): JSX.Element {
  return (
    <FormField {...props}>
      <input
        className="jp-mod-styled"
        name={props.param}
        type={props.type ?? 'text'}
        inputMode={props.inputMode}
        placeholder={props.placeholder}
        value={props.value}
        aria-invalid={props.error !== undefined}
        onChange={e => props.onChange(e.target.value)}
      />
    </FormField>
  );
}

/** One entry of a `SelectField`: the value sent, and the words shown. */
export interface IChoice {
  value: string;
  label: string;
}

/** A labelled drop-down. */
export function SelectField(
  props: IFieldProps & {
    value: string;
    choices: readonly IChoice[];
    onChange: (value: string) => void;
  }
): JSX.Element {
  return (
    <FormField {...props}>
      <select
        className="jp-mod-styled"
        name={props.param}
        value={props.value}
        aria-invalid={props.error !== undefined}
        onChange={e => props.onChange(e.target.value)}
      >
        {props.choices.map(choice => (
          <option key={choice.value} value={choice.value}>
            {choice.label}
          </option>
        ))}
      </select>
    </FormField>
  );
}

/** Choices whose words are their values (time zones, kernel names). */
export function plainChoices(values: readonly string[]): IChoice[] {
  return values.map(value => ({ value, label: value }));
}
