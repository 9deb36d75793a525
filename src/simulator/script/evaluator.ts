import { DeviceTrap } from '../model/types.js';
import type { Block, CommandArguments, CommandCall, Expression, Statement } from './ast.js';
import { ReturnSignal } from './errors.js';
import type { ItemView, RunContext, ScriptHost } from './host.js';
import { applyBinary, applyUnary } from './operators.js';
import {
  arrayEntries,
  NOTHING,
  newArray,
  type ScriptArray,
  type ScriptValue,
  str,
  toBool,
  toStr,
  typeWord,
} from './values.js';

/** A `do={ ... }` value: code that runs in a fresh scope when called. */
export type CodeValue = { readonly block: Block; readonly source: string };

/** Local variables of one block; lookups walk outwards, then fall back to globals. */
export class Scope {
  readonly variables = new Map<string, ScriptValue>();

  readonly parent: Scope | undefined;

  constructor(parent?: Scope) {
    this.parent = parent;
  }

  find(name: string): Scope | undefined {
    for (let scope: Scope | undefined = this; scope !== undefined; scope = scope.parent) {
      if (scope.variables.has(name)) {
        return scope;
      }
    }

    return undefined;
  }
}

/** Runs one global command; it receives raw arguments so it can evaluate them lazily. */
export type GlobalCommand = (
  interpreter: Interpreter,
  args: CommandArguments,
  scope: Scope,
) => Promise<ScriptValue>;

/** Comparison operators whose right-hand bare word is a value even inside `where`. */
const COMPARISONS = new Set(['=', '!=', '<', '>', '<=', '>=', '~', 'in']);

/**
 * Runs parsed scripts against a host. Runtime failures are DeviceTrap errors carrying the
 * device's message; they stop the script unless a `:do ... on-error` catches them.
 */
export class Interpreter {
  readonly host: ScriptHost;

  readonly context: RunContext;

  private readonly globalCommands: ReadonlyMap<string, GlobalCommand>;

  /** How many `[ ]` substitutions are being evaluated around the current statement. */
  private substitutionDepth = 0;

  constructor(
    host: ScriptHost,
    context: RunContext,
    globalCommands: ReadonlyMap<string, GlobalCommand>,
  ) {
    this.host = host;
    this.context = context;
    this.globalCommands = globalCommands;
  }

  /** Throws the device's `interrupted` trap once the run's signal has aborted. */
  checkInterrupted(): void {
    if (this.context.signal.aborted) {
      throw new DeviceTrap('interrupted', 2);
    }
  }

  /** Runs a block in `scope` and returns the value of its last statement. */
  async runBlock(block: Block, scope: Scope): Promise<ScriptValue> {
    let result: ScriptValue = NOTHING;
    for (const statement of block.statements) {
      result = await this.runStatement(statement, scope);
    }

    return result;
  }

  private async runStatement(statement: Statement, scope: Scope): Promise<ScriptValue> {
    this.checkInterrupted();
    if (statement.kind === 'block') {
      return this.runBlock(statement.block, new Scope(scope));
    }

    return this.runCall(statement.call, scope);
  }

  private async runCall(call: CommandCall, scope: Scope): Promise<ScriptValue> {
    switch (call.target) {
      case 'global': {
        const command = this.globalCommands.get(call.name);
        if (command === undefined) {
          throw new DeviceTrap(`bad command name ${call.name}`, 3);
        }

        return command(this, call.args, scope);
      }

      case 'menu':
        return this.runMenuCall(call, scope);
      case 'function':
        return this.callFunction(await this.evaluate(call.callee, scope), call.args, scope);
    }
  }

  private async runMenuCall(
    call: Extract<CommandCall, { target: 'menu' }>,
    scope: Scope,
  ): Promise<ScriptValue> {
    const positional: ScriptValue[] = [];
    for (const expression of call.args.positional) {
      positional.push(await this.evaluate(expression, scope));
    }

    const named = new Map<string, ScriptValue | undefined>();
    for (const argument of call.args.named) {
      const value =
        argument.value === undefined ? undefined : await this.evaluate(argument.value, scope);
      named.set(argument.name, value);
    }

    const condition = call.args.where;
    const where =
      condition === undefined
        ? undefined
        : async (item: ItemView) =>
            toBool(await this.evaluateWhere(condition, scope, item)) === true;
    return this.host.runMenuCommand(
      {
        menu: call.menu,
        command: call.name,
        positional,
        named,
        where,
        valueWanted: this.substitutionDepth > 0,
      },
      this.context,
    );
  }

  /** Calls a code value with `$1`, `$2`, ... and named arguments as its local variables. */
  async callFunction(
    callee: ScriptValue,
    args: CommandArguments,
    scope: Scope,
  ): Promise<ScriptValue> {
    if (callee.type !== 'code') {
      return callee;
    }

    const code = callee.value as CodeValue;
    const inner = new Scope();
    for (const [index, expression] of args.positional.entries()) {
      inner.variables.set(String(index + 1), await this.evaluate(expression, scope));
    }

    for (const argument of args.named) {
      const value =
        argument.value === undefined ? NOTHING : await this.evaluate(argument.value, scope);
      inner.variables.set(argument.name, value);
    }

    return this.runCode(code, inner);
  }

  /** Runs code in `scope`, turning `:return` into the result. */
  async runCode(code: CodeValue, scope: Scope): Promise<ScriptValue> {
    try {
      return await this.runBlock(code.block, scope);
    } catch (error) {
      if (error instanceof ReturnSignal) {
        return error.value;
      }

      throw error;
    }
  }

  readVariable(name: string, scope: Scope): ScriptValue {
    const local = scope.find(name);
    if (local !== undefined) {
      return local.variables.get(name) ?? NOTHING;
    }

    return this.host.globals.get(name) ?? NOTHING;
  }

  async evaluate(expression: Expression, scope: Scope): Promise<ScriptValue> {
    switch (expression.kind) {
      case 'value':
        return expression.value;
      case 'word':
        return typeWord(expression.text);
      case 'variable':
        return this.readVariable(expression.name, scope);
      case 'substitution':
        return this.runSubstitution(expression.block, scope);
      case 'code':
        return { type: 'code', value: { block: expression.block, source: expression.source } };
      case 'interpolated':
      case 'concat':
        return this.evaluateJoined(expression, scope);
      case 'array':
        return this.evaluateArray(expression, scope);
      case 'binary':
        return this.evaluateBinary(expression, scope, undefined);
      case 'unary':
        return applyUnary(expression.operator, await this.evaluate(expression.operand, scope));
      case 'index':
        return indexValue(
          await this.evaluate(expression.target, scope),
          await this.evaluate(expression.key, scope),
        );
    }
  }

  private async runSubstitution(block: Block, scope: Scope): Promise<ScriptValue> {
    this.substitutionDepth += 1;
    try {
      return await this.runBlock(block, new Scope(scope));
    } finally {
      this.substitutionDepth -= 1;
    }
  }

  private async evaluateJoined(
    expression: Extract<Expression, { kind: 'interpolated' | 'concat' }>,
    scope: Scope,
  ): Promise<ScriptValue> {
    let text = '';
    for (const part of expression.parts) {
      text += typeof part === 'string' ? part : toStr(await this.evaluate(part, scope));
    }

    return str(text);
  }

  private async evaluateArray(
    expression: Extract<Expression, { kind: 'array' }>,
    scope: Scope,
  ): Promise<ScriptValue> {
    const result = newArray();
    const array = result.type === 'array' ? result.value : undefined;
    for (const entry of expression.entries) {
      const value = await this.evaluate(entry.value, scope);
      if (entry.key === undefined) {
        array?.items.push(value);
      } else {
        array?.keyed.set(entry.key, value);
      }
    }

    return result;
  }

  private async evaluateBinary(
    expression: Extract<Expression, { kind: 'binary' }>,
    scope: Scope,
    item: ItemView | undefined,
  ): Promise<ScriptValue> {
    const evaluateSide = (side: Expression, literal: boolean) =>
      item === undefined
        ? this.evaluate(side, scope)
        : this.evaluateWhere(side, scope, item, literal);
    const left = await evaluateSide(expression.left, false);
    if (expression.operator === '&&' && toBool(left) !== true) {
      return { type: 'bool', value: false };
    }

    if (expression.operator === '||' && toBool(left) === true) {
      return { type: 'bool', value: true };
    }

    const right = await evaluateSide(expression.right, COMPARISONS.has(expression.operator));
    return applyBinary(expression.operator, left, right);
  }

  /**
   * Evaluates a `where` condition for one item: a bare word that names a property reads that
   * property, except on the right of a comparison, where it is a value (`action=log`).
   */
  async evaluateWhere(
    expression: Expression,
    scope: Scope,
    item: ItemView,
    literal = false,
  ): Promise<ScriptValue> {
    switch (expression.kind) {
      case 'word':
        if (!literal && item.isProperty(expression.text)) {
          return item.get(expression.text) ?? NOTHING;
        }

        return typeWord(expression.text);
      case 'binary':
        return this.evaluateBinary(expression, scope, item);
      case 'unary':
        return applyUnary(
          expression.operator,
          await this.evaluateWhere(expression.operand, scope, item),
        );
      default:
        return this.evaluate(expression, scope);
    }
  }

  /** Assigns to `name` or to `($array->key)`, as `:set` does. */
  async assign(target: Expression, value: ScriptValue, scope: Scope): Promise<void> {
    if (target.kind === 'index') {
      const container = await this.evaluate(target.target, scope);
      const key = await this.evaluate(target.key, scope);
      if (container.type !== 'array') {
        throw new DeviceTrap('invalid array', 3);
      }

      setIndex(container.value, key, value);
      return;
    }

    const name = variableName(target);
    const local = scope.find(name);
    if (local !== undefined) {
      local.variables.set(name, value);
      return;
    }

    this.host.globals.set(name, value);
  }
}

/** The variable a `:local`, `:global` or `:set` names: a bare word or `$name`. */
export function variableName(target: Expression): string {
  if (target.kind === 'word') {
    return target.text;
  }

  if (target.kind === 'variable') {
    return target.name;
  }

  if (target.kind === 'value') {
    return toStr(target.value);
  }

  throw new DeviceTrap('invalid variable name', 3);
}

function indexValue(container: ScriptValue, key: ScriptValue): ScriptValue {
  if (container.type !== 'array') {
    return NOTHING;
  }

  if (key.type === 'num') {
    return container.value.items[key.value] ?? lookupKey(container.value, String(key.value));
  }

  return lookupKey(container.value, toStr(key));
}

function lookupKey(array: ScriptArray, key: string): ScriptValue {
  return array.keyed.get(key) ?? NOTHING;
}

function setIndex(array: ScriptArray, key: ScriptValue, value: ScriptValue): void {
  if (key.type === 'num' && key.value >= 0 && key.value <= array.items.length) {
    array.items[key.value] = value;
    return;
  }

  array.keyed.set(toStr(key), value);
}

/** The elements of a value for `:foreach`: an array's entries, or the value itself once. */
export function iterationEntries(value: ScriptValue): Array<[string | number, ScriptValue]> {
  if (value.type === 'array') {
    return arrayEntries(value.value);
  }

  if (value.type === 'nothing' || value.type === 'nil') {
    return [];
  }

  return [[0, value]];
}
