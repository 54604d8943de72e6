// GitHub Actions expressions (${{ … }}), evaluated as GitHub documents them, so a test can
// turn an example workflow's `with:` into the INPUT_* values the runner would set: loose
// equality that coerces mismatched types to numbers (so "true" == true is false),
// case-insensitive string comparison, property access that yields null on a missing
// value, && and || returning an operand, and format(). Enough for the examples, not all.
type Value = null | boolean | number | string | Value[] | { [key: string]: Value };

export type ExpressionContext = Record<string, Value>;

export function evaluateTemplate(template: string, context: ExpressionContext): string {
  const whole = /^\s*\$\{\{(.*)\}\}\s*$/s.exec(template);
  if (whole && !whole[1]!.includes('}}')) return toText(evaluate(whole[1]!, context));
  return template.replace(/\$\{\{(.*?)\}\}/gs, (_, expression: string) =>
    toText(evaluate(expression, context)),
  );
}

export function evaluate(expression: string, context: ExpressionContext): Value {
  const parser = new Parser(tokenize(expression), context);
  const value = parser.expression();
  parser.end();
  return value;
}

type Token = { kind: 'number' | 'string' | 'name' | 'op'; text: string };

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  const pattern =
    /\s*(?:(?<number>-?\d+(?:\.\d+)?(?:e[+-]?\d+)?|0x[0-9a-f]+)|'(?<string>(?:[^']|'')*)'|(?<name>[A-Za-z_][A-Za-z0-9_-]*)|(?<op>==|!=|<=|>=|&&|\|\||[!<>().[\],*]))/iy;
  let at = 0;
  while (at < source.length) {
    if (/^\s*$/.test(source.slice(at))) break;
    pattern.lastIndex = at;
    const match = pattern.exec(source);
    if (!match?.groups) throw new Error(`cannot read the expression at "${source.slice(at)}"`);
    at = pattern.lastIndex;
    const { number, string, name, op } = match.groups;
    if (number !== undefined) tokens.push({ kind: 'number', text: number });
    else if (string !== undefined) tokens.push({ kind: 'string', text: string.replace(/''/g, "'") });
    else if (name !== undefined) tokens.push({ kind: 'name', text: name });
    else tokens.push({ kind: 'op', text: op! });
  }
  return tokens;
}

class Parser {
  #at = 0;
  readonly #tokens: Token[];
  readonly #context: ExpressionContext;

  constructor(tokens: Token[], context: ExpressionContext) {
    this.#tokens = tokens;
    this.#context = context;
  }

  end(): void {
    if (this.#at < this.#tokens.length) throw new Error(`unexpected "${this.#tokens[this.#at]!.text}"`);
  }

  expression(): Value {
    let left = this.#and();
    while (this.#take('||')) {
      const right = this.#and();
      left = truthy(left) ? left : right;
    }
    return left;
  }

  #and(): Value {
    let left = this.#equality();
    while (this.#take('&&')) {
      const right = this.#equality();
      left = truthy(left) ? right : left;
    }
    return left;
  }

  #equality(): Value {
    let left = this.#comparison();
    for (;;) {
      if (this.#take('==')) left = looselyEqual(left, this.#comparison());
      else if (this.#take('!=')) left = !looselyEqual(left, this.#comparison());
      else return left;
    }
  }

  #comparison(): Value {
    let left = this.#unary();
    for (;;) {
      const op = ['<=', '>=', '<', '>'].find((candidate) => this.#take(candidate));
      if (!op) return left;
      const right = this.#unary();
      const [a, b] =
        typeof left === 'string' && typeof right === 'string'
          ? [left.toLowerCase(), right.toLowerCase()]
          : [toNumber(left), toNumber(right)];
      left = op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : a >= b;
    }
  }

  #unary(): Value {
    if (this.#take('!')) return !truthy(this.#unary());
    return this.#primary();
  }

  #primary(): Value {
    const token = this.#tokens[this.#at++];
    if (!token) throw new Error('the expression ends too early');
    if (token.kind === 'number') return Number(token.text);
    if (token.kind === 'string') return token.text;
    if (token.kind === 'op' && token.text === '(') {
      const value = this.expression();
      this.#expect(')');
      return value;
    }
    if (token.kind !== 'name') throw new Error(`unexpected "${token.text}"`);
    const literal = { true: true, false: false, null: null } as Record<string, Value>;
    if (token.text in literal) return literal[token.text]!;
    if (this.#take('(')) return this.#call(token.text);
    let value: Value = property(this.#context, token.text);
    for (;;) {
      if (this.#take('.')) {
        const name = this.#tokens[this.#at++];
        if (name?.kind !== 'name') throw new Error('a property name must follow "."');
        value = property(value, name.text);
      } else if (this.#take('[')) {
        const key = this.expression();
        this.#expect(']');
        value = property(value, toText(key));
      } else {
        return value;
      }
    }
  }

  #call(name: string): Value {
    const args: Value[] = [];
    if (!this.#take(')')) {
      do args.push(this.expression());
      while (this.#take(','));
      this.#expect(')');
    }
    switch (name.toLowerCase()) {
      case 'format':
        return toText(args[0] ?? '').replace(/\{\{|\}\}|\{(\d+)\}/g, (token, index?: string) =>
          index === undefined ? token[0]! : toText(args[Number(index) + 1] ?? null),
        );
      case 'contains':
        return Array.isArray(args[0])
          ? args[0].some((item) => looselyEqual(item, args[1] ?? null))
          : toText(args[0] ?? null)
              .toLowerCase()
              .includes(toText(args[1] ?? null).toLowerCase());
      case 'tojson':
        return JSON.stringify(args[0] ?? null, null, 2);
      default:
        throw new Error(`the test evaluator has no function ${name}()`);
    }
  }

  #take(op: string): boolean {
    const token = this.#tokens[this.#at];
    if (token?.kind === 'op' && token.text === op) {
      this.#at++;
      return true;
    }
    return false;
  }

  #expect(op: string): void {
    if (!this.#take(op)) throw new Error(`expected "${op}"`);
  }
}

/** Context property names are case-insensitive; a missing one is null. */
function property(value: Value, name: string): Value {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const key = Object.keys(value).find((candidate) => candidate.toLowerCase() === name.toLowerCase());
  return key === undefined ? null : (value[key] ?? null);
}

function truthy(value: Value): boolean {
  if (value === null || value === false || value === '') return false;
  if (typeof value === 'number') return value !== 0 && !Number.isNaN(value);
  return true;
}

function toNumber(value: Value): number {
  if (value === null) return 0;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return value.trim() === '' ? 0 : Number(value.trim());
  return Number.NaN;
}

/** GitHub's ==: same types compare as they are (strings ignoring case), others as numbers. */
function looselyEqual(a: Value, b: Value): boolean {
  if (typeof a === 'string' && typeof b === 'string') return a.toLowerCase() === b.toLowerCase();
  if (a === null || b === null || typeof a !== typeof b) return toNumber(a) === toNumber(b);
  if (typeof a === 'object') return a === b;
  return a === b;
}

function toText(value: Value): string {
  if (value === null) return '';
  if (typeof value === 'boolean' || typeof value === 'number') return String(value);
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}
