import type { ScriptPosition } from '../model/types.js';
import type { MenuHandle } from './catalog.js';
import type { ScriptValue } from './values.js';

/** Statements run in order; a block is also the unit of `:local` scope. */
export type Block = { readonly statements: readonly Statement[] };

export type Statement =
  | { readonly kind: 'command'; readonly position: ScriptPosition; readonly call: CommandCall }
  | { readonly kind: 'block'; readonly position: ScriptPosition; readonly block: Block };

/** A named argument: `name=value`, or a flag such as `detail` with no value. */
export type NamedArgument = {
  readonly name: string;
  readonly value: Expression | undefined;
  readonly position: ScriptPosition;
};

export type CommandArguments = {
  readonly positional: readonly Expression[];
  readonly named: readonly NamedArgument[];
  /** The expression after `where`, for `print` and `find`. */
  readonly where: Expression | undefined;
};

export type CommandCall =
  | {
      readonly target: 'global';
      readonly name: string;
      readonly position: ScriptPosition;
      readonly args: CommandArguments;
    }
  | {
      readonly target: 'menu';
      readonly menu: MenuHandle;
      readonly name: string;
      readonly position: ScriptPosition;
      readonly args: CommandArguments;
    }
  | {
      readonly target: 'function';
      readonly callee: Expression;
      readonly position: ScriptPosition;
      readonly args: CommandArguments;
    };

export type BinaryOperator =
  | '+'
  | '-'
  | '*'
  | '/'
  | '%'
  | '.'
  | ','
  | '='
  | '!='
  | '<'
  | '>'
  | '<='
  | '>='
  | '&&'
  | '||'
  | '~'
  | 'in'
  | '&'
  | '|'
  | '^'
  | '<<'
  | '>>';

export type Expression =
  | { readonly kind: 'value'; readonly value: ScriptValue }
  /** A bare word, typed when evaluated; inside `where` it may name a property of the item. */
  | { readonly kind: 'word'; readonly text: string; readonly position: ScriptPosition }
  | { readonly kind: 'interpolated'; readonly parts: readonly (string | Expression)[] }
  | { readonly kind: 'variable'; readonly name: string; readonly position: ScriptPosition }
  | { readonly kind: 'substitution'; readonly block: Block }
  | { readonly kind: 'code'; readonly block: Block; readonly source: string }
  | {
      readonly kind: 'array';
      readonly entries: ReadonlyArray<{
        readonly key: string | undefined;
        readonly value: Expression;
      }>;
    }
  | {
      readonly kind: 'binary';
      readonly operator: BinaryOperator;
      readonly left: Expression;
      readonly right: Expression;
      readonly position: ScriptPosition;
    }
  | { readonly kind: 'unary'; readonly operator: '!' | '-' | '~'; readonly operand: Expression }
  | { readonly kind: 'index'; readonly target: Expression; readonly key: Expression }
  /** Terms written next to each other without space, joined as strings. */
  | { readonly kind: 'concat'; readonly parts: readonly Expression[] };
