/**
 * A search box that asks the server only when the user presses Enter (Escape
 * clears it and asks again), so typing never floods the server with requests.
 * The runs filter and the experiment name search both use it.
 */
import React, { useEffect, useState } from 'react';

export interface ISearchInputProps {
  /** The text in effect; the box follows it when it changes elsewhere. */
  value: string;
  className: string;
  label: string;
  placeholder: string;
  title: string;
  onSubmit: (text: string) => void;
}

export function SearchInput(props: ISearchInputProps): JSX.Element {
  const [text, setText] = useState(props.value);
  useEffect(() => setText(props.value), [props.value]);
  return (
    <input
      className={`${props.className} jp-mod-styled`}
      type="search"
      aria-label={props.label}
      placeholder={props.placeholder}
      title={props.title}
      spellCheck={false}
      value={text}
      onChange={event => setText(event.currentTarget.value)}
      onKeyDown={event => {
        if (event.key === 'Enter') {
          event.preventDefault();
          props.onSubmit(text);
        } else if (event.key === 'Escape' && text) {
          event.preventDefault();
          setText('');
          props.onSubmit('');
        }
      }}
    />
  );
}
