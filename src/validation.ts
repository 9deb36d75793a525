/*
 * Validation of the agent's own inputs: its configuration file and the protocol frames. A schema
 * checks a parsed JSON or YAML value and returns a copy with only the keys it defines, or reports
 * every value that does not fit, with its path and a description of a valid value.
 *
 * The agent used zod for this. zod's modules, with its 63 locales, stay loaded for the life of
 * the daemon and took 2.9 MiB of its idle heap, 1.5 MiB of it source text that V8 keeps. This
 * module covers only the kinds of value the agent accepts.
 */

/** One value that does not fit its schema. */
export type Issue = {
  /** Keys and list indexes from the root to the value. */
  path: Array<string | number>;
  /** Description of a valid value, such as `a whole number from 1 to 1024`. */
  expected: string;
  /** The value found, undefined for a missing one. */
  input: unknown;
  /** True for a key that the schema does not know, in an object that allows no others. */
  unknownKey: boolean;
};

/** Returned by a check in place of a value that did not fit. The issues give the reason. */
const INVALID: unique symbol = Symbol('invalid');

type Checked<T> = T | typeof INVALID;

/** State of one validation: the path to the current value (a stack) and the issues so far. */
type Walk = { path: Array<string | number>; issues: Issue[] };

/** A schema of values of type `T`. */
export type Schema<T> = {
  /** Checks `value`, pushing an issue for each part that does not fit. */
  readonly check: (value: unknown, walk: Walk) => Checked<T>;
  /** True when an object may lack the key of this schema. */
  readonly optional: boolean;
};

/** The type of the values a schema accepts. */
export type Infer<S> = S extends Schema<infer T> ? T : never;

export type Result<T> = { success: true; data: T } | { success: false; issues: Issue[] };

/** Checks `value` against `schema` and returns the checked copy or every issue found. */
export function safeParse<T>(schema: Schema<T>, value: unknown): Result<T> {
  const walk: Walk = { path: [], issues: [] };
  const data = schema.check(value, walk);
  return data === INVALID || walk.issues.length > 0
    ? { success: false, issues: walk.issues }
    : { success: true, data };
}

function fail(walk: Walk, expected: string, input: unknown): typeof INVALID {
  walk.issues.push({ path: [...walk.path], expected, input, unknownKey: false });
  return INVALID;
}

function schema<T>(check: (value: unknown, walk: Walk) => Checked<T>): Schema<T> {
  return { check, optional: false };
}

/** A schema whose key an object may lack. */
export type OptionalSchema<T> = Schema<T | undefined> & { readonly optional: true };

/** Allows an object to lack the key of `inner`. */
export function optional<T>(inner: Schema<T>): OptionalSchema<T> {
  return { check: inner.check, optional: true };
}

/** Texts that describe a valid value. */
type Texts = {
  /** For a value of the wrong type. */
  expected?: string;
  /** For a value of the right type that fails a further check. Default `expected`. */
  invalid?: string;
};

/** Range of a number, or of a string's or list's length. Both ends included. */
type Range = { min?: number; max?: number };

function rangeText(range: Range, unit: string): string {
  const { min, max } = range;
  if (min !== undefined && max !== undefined) {
    return `${unit} from ${min} to ${max}`;
  }

  return min !== undefined ? `${unit} of at least ${min}` : `${unit} of at most ${max}`;
}

function inRange(value: number, range: Range): boolean {
  return !(value < (range.min ?? -Infinity) || value > (range.max ?? Infinity));
}

export type StringOptions = Texts &
  Range & {
    /** Pattern the whole string must match. */
    pattern?: RegExp;
    /** Further test of the string. */
    test?: (value: string) => boolean;
  };

/**
 * Returns a schema of strings with a length within `min` and `max` that match `pattern` and pass
 * `test`.
 */
export function string(options: StringOptions = {}): Schema<string> {
  const expected = options.expected ?? 'a string';
  const invalid =
    options.invalid ??
    options.expected ??
    (options.min === undefined && options.max === undefined
      ? 'a string in the valid format'
      : rangeText(options, 'a string of a length'));

  return schema((value, walk) => {
    if (typeof value !== 'string') {
      return fail(walk, expected, value);
    }

    const fits =
      inRange(value.length, options) &&
      (options.pattern?.test(value) ?? true) &&
      (options.test?.(value) ?? true);
    return fits ? value : fail(walk, invalid, value);
  });
}

/** RFC 9562 UUIDs of versions 1 to 8, and the nil and max UUIDs. */
const UUID_PATTERN =
  /^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}|00000000-0000-0000-0000-000000000000|ffffffff-ffff-ffff-ffff-ffffffffffff)$/;

/** Returns a schema of UUID strings. */
export function uuid(texts: Texts = {}): Schema<string> {
  return string({ expected: 'a UUID', ...texts, pattern: UUID_PATTERN });
}

/** Returns a schema of finite numbers within `min` and `max`, and greater than `above`. */
export function number(options: Texts & Range & { above?: number } = {}): Schema<number> {
  const expected = options.expected ?? 'a number';
  const invalid =
    options.invalid ??
    (options.above === undefined ? rangeText(options, 'a number') : `more than ${options.above}`);

  return schema((value, walk) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      return fail(walk, expected, value);
    }

    const fits = inRange(value, options) && value > (options.above ?? -Infinity);
    return fits ? value : fail(walk, invalid, value);
  });
}

/** Returns a schema of safe integers within `min` and `max`. */
export function integer(options: Texts & Range = {}): Schema<number> {
  const expected = options.expected ?? 'a whole number';
  const invalid = options.invalid ?? options.expected ?? rangeText(options, 'a whole number');

  return schema((value, walk) => {
    if (typeof value !== 'number') {
      return fail(walk, expected, value);
    }

    return Number.isSafeInteger(value) && inRange(value, options)
      ? value
      : fail(walk, invalid, value);
  });
}

/** Returns a schema of `true` or `false`. */
export function boolean(): Schema<boolean> {
  return schema((value, walk) =>
    typeof value === 'boolean' ? value : fail(walk, 'true or false', value),
  );
}

/**
 * Returns a schema that accepts any value unchecked. Its key is still required, so an object
 * that lacks it, such as a job_offer frame without its job, fails.
 */
export function unknown(): Schema<unknown> {
  return schema((value, walk) => (value === undefined ? fail(walk, 'a value', value) : value));
}

/**
 * Returns a schema of a key that must be missing. `expected` names the setting to use instead.
 */
export function absent(expected: string): OptionalSchema<undefined> {
  return { check: (value, walk) => fail(walk, expected, value), optional: true };
}

/** A schema of exactly one string. */
export type LiteralSchema<T extends string> = Schema<T> & { readonly value: T };

/** Returns a schema of exactly `value`. */
export function literal<const T extends string>(value: T): LiteralSchema<T> {
  return {
    ...schema((input, walk) => (input === value ? value : fail(walk, `"${value}"`, input))),
    value,
  };
}

/** Returns a schema of one of `values`. */
export function oneOf<const T extends string>(
  values: readonly T[],
  texts: Pick<Texts, 'expected'> = {},
): Schema<T> {
  const allowed: ReadonlySet<unknown> = new Set(values);
  const expected = texts.expected ?? `one of ${values.join(', ')}`;

  return schema((value, walk) => (allowed.has(value) ? (value as T) : fail(walk, expected, value)));
}

/** Returns a schema of lists with a length within `min` and `max`, each item fitting `item`. */
export function array<T>(item: Schema<T>, options: Texts & Range = {}): Schema<T[]> {
  const expected = options.expected ?? 'a list';
  const invalid = options.invalid ?? rangeText(options, 'a list of a length');

  return schema((value, walk) => {
    if (!Array.isArray(value)) {
      return fail(walk, expected, value);
    }

    if (!inRange(value.length, options)) {
      return fail(walk, invalid, value);
    }

    const items: T[] = [];
    let valid = true;
    for (const [index, element] of value.entries()) {
      walk.path.push(index);
      const checked = item.check(element, walk);
      walk.path.pop();
      if (checked === INVALID) {
        valid = false;
      } else {
        items.push(checked);
      }
    }

    return valid ? items : INVALID;
  });
}

/** Keys of an object schema and the schema of each key's value. */
export type Shape = Readonly<Record<string, Schema<unknown>>>;

type OptionalKeys<S extends Shape> = {
  [K in keyof S]: S[K] extends { optional: true } ? K : never;
}[keyof S];

type Flat<T> = { [K in keyof T]: T[K] } & {};

/** The object type of a shape: keys of optional schemas may be missing. */
export type InferShape<S extends Shape> = Flat<
  { [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]> } & {
    [K in OptionalKeys<S>]?: Infer<S[K]>;
  }
>;

export type ObjectSchema<S extends Shape> = Schema<InferShape<S>> & { readonly shape: S };

export type ObjectOptions = {
  /** Reports keys the shape lacks instead of dropping them. Default false. */
  strict?: boolean;
  /** Description of a valid value when the value is not an object. */
  expected?: string;
};

/**
 * Returns a schema of objects with the keys of `shape`. Every key is checked, so one call
 * reports every problem. The copy contains only the keys of `shape` that the value has.
 */
export function object<const S extends Shape>(
  shape: S,
  options: ObjectOptions = {},
): ObjectSchema<S> {
  const expected = options.expected ?? 'a mapping of keys to values';
  const entries = Object.entries(shape);

  const check = (value: unknown, walk: Walk): Checked<InferShape<S>> => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return fail(walk, expected, value);
    }

    const input = value as Record<string, unknown>;
    const copy: Record<string, unknown> = {};
    let valid = true;
    for (const [key, field] of entries) {
      const present = Object.hasOwn(input, key) && input[key] !== undefined;
      if (!present && field.optional) {
        continue;
      }

      walk.path.push(key);
      const checked = field.check(input[key], walk);
      walk.path.pop();
      if (checked === INVALID) {
        valid = false;
      } else {
        copy[key] = checked;
      }
    }

    if (options.strict === true && !reportUnknownKeys(input, shape, walk)) {
      valid = false;
    }

    return valid ? (copy as InferShape<S>) : INVALID;
  };

  return { check, optional: false, shape };
}

/** Pushes an issue for each key of `input` that `shape` lacks. Returns true when there is none. */
function reportUnknownKeys(input: object, shape: Shape, walk: Walk): boolean {
  let known = true;
  for (const key of Object.keys(input)) {
    if (!Object.hasOwn(shape, key)) {
      walk.issues.push({
        path: [...walk.path, key],
        expected: 'a known setting (check the spelling)',
        input: undefined,
        unknownKey: true,
      });
      known = false;
    }
  }

  return known;
}

/** Returns a copy of `shape` with every key optional. */
export function partial<const S extends Shape>(
  shape: S,
): { [K in keyof S]: OptionalSchema<Infer<S[K]>> } {
  const result: Record<string, Schema<unknown>> = {};
  for (const [key, field] of Object.entries(shape)) {
    result[key] = optional(field);
  }

  return result as { [K in keyof S]: OptionalSchema<Infer<S[K]>> };
}

/**
 * Returns a schema of values that fit one of `options`, checked in order. `expected` describes
 * them all. When the value fails every option but has the type of only one, such as a list
 * with an empty item, that option's issues are reported, so the path names the item.
 */
export function union<T>(options: ReadonlyArray<Schema<T>>, expected: string): Schema<T> {
  return schema((value, walk) => {
    const nested: Issue[][] = [];
    for (const option of options) {
      const issues: Issue[] = [];
      const checked = option.check(value, { path: walk.path, issues });
      if (checked !== INVALID) {
        return checked;
      }

      if (issues.length > 0 && issues.every((issue) => issue.path.length > walk.path.length)) {
        nested.push(issues);
      }
    }

    const [only, ...others] = nested;
    if (only !== undefined && others.length === 0) {
      walk.issues.push(...only);
      return INVALID;
    }

    return fail(walk, expected, value);
  });
}

/** An object schema with a literal schema at `key`. */
type Variant<K extends string> = ObjectSchema<Shape & { readonly [P in K]: LiteralSchema<string> }>;

/**
 * Returns a schema of objects checked by the variant whose literal at `key` equals the value at
 * `key`, such as frames distinguished by their `type`.
 */
export function discriminated<K extends string, const V extends ReadonlyArray<Variant<K>>>(
  key: K,
  variants: V,
): Schema<Infer<V[number]>> {
  const byValue = new Map<unknown, Variant<K>>();
  for (const variant of variants) {
    byValue.set(variant.shape[key].value, variant);
  }

  const expected = `one of ${[...byValue.keys()].join(', ')}`;
  return schema((value, walk) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return fail(walk, 'a mapping of keys to values', value);
    }

    const tag = Reflect.get(value, key);
    const variant = byValue.get(tag);
    if (variant === undefined) {
      walk.path.push(key);
      fail(walk, expected, tag);
      walk.path.pop();
      return INVALID;
    }

    return variant.check(value, walk) as Checked<Infer<V[number]>>;
  });
}
