import type { ApiCommand, ApiRow } from '../model/types.js';

/** A sentence a client sent, split into its kinds of words. */
export type ApiRequest = {
  /** The first word as sent: `/ip/address/print`, `/login`, `/cancel`. */
  word: string;
  /** The command for the device model; undefined when the first word is not a command. */
  command: ApiCommand | undefined;
  /** Value of the `.tag` API attribute, or undefined when the client sent none. */
  tag: string | undefined;
};

/**
 * Splits a sentence into command, `=name=value` attributes (split at the second `=` only, so a
 * value may contain `=`), `?` queries and the `.tag` API attribute. Other words are ignored.
 */
export function parseRequest(words: readonly string[]): ApiRequest {
  const [word = '', ...rest] = words;
  const attributes: Array<readonly [string, string]> = [];
  const queries: string[] = [];
  let tag: string | undefined;

  for (const item of rest) {
    if (item.startsWith('=')) {
      attributes.push(splitAttribute(item));
    } else if (item.startsWith('?')) {
      queries.push(item.slice(1));
    } else if (item.startsWith('.tag=')) {
      tag = item.slice('.tag='.length);
    }
  }

  return { word, command: toCommand(word, attributes, queries), tag };
}

function splitAttribute(word: string): readonly [string, string] {
  const separator = word.indexOf('=', 1);
  if (separator === -1) {
    return [word.slice(1), ''];
  }

  return [word.slice(1, separator), word.slice(separator + 1)];
}

function toCommand(
  word: string,
  attributes: ReadonlyArray<readonly [string, string]>,
  queries: readonly string[],
): ApiCommand | undefined {
  if (!word.startsWith('/') || word.length < 2) {
    return undefined;
  }

  const parts = word.slice(1).split('/');
  const command = parts.pop() ?? '';
  return { path: parts, command, attributes, queries };
}

/** Returns the value of the last attribute named `name`, as the device reads repeated names. */
export function attributeValue(request: ApiRequest, name: string): string | undefined {
  const attributes = request.command?.attributes ?? [];
  let value: string | undefined;
  for (const [key, item] of attributes) {
    if (key === name) {
      value = item;
    }
  }

  return value;
}

/** Builds a reply sentence: the reply word, `=name=value` words, then `.tag` when tagged. */
export function replyWords(reply: string, attributes: ApiRow, tag: string | undefined): string[] {
  const words = [reply];
  for (const [name, value] of attributes) {
    words.push(`=${name}=${value}`);
  }

  if (tag !== undefined) {
    words.push(`.tag=${tag}`);
  }

  return words;
}

/** Reports whether a command is a print or query, which replies `!empty` on 7.18+ when it finds nothing. */
export function isQuery(command: ApiCommand): boolean {
  return command.command === 'print' || command.command === 'getall' || command.queries.length > 0;
}
