/**
 * Glob patterns for the server API's `channels` method, with the syntax of
 * the gobwas/glob library Centrifugo uses (no separators): `*` any run of
 * characters, `?` one character, `[abc]` / `[a-z]` one of, `[!abc]` none of,
 * `{a,b}` one of the alternatives (which may hold patterns), `\` makes the
 * next character literal.
 *
 * Patterns compile to a small automaton that is run over all its states at
 * once, so matching costs at most (name length × pattern size) steps:
 * no pattern can make matching take exponential time, as a backtracking
 * regular expression could.
 */

/** The pattern is not valid glob syntax. */
export class GlobSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GlobSyntaxError';
  }
}

type Node =
  | { kind: 'char'; test: (c: string) => boolean }
  | { kind: 'star' }
  | { kind: 'alt'; branches: Node[][] };

type State =
  | { kind: 'char'; test: (c: string) => boolean; next: number }
  | { kind: 'star'; next: number }
  | { kind: 'split'; targets: number[] }
  | { kind: 'match' };

/** A compiled pattern. */
export class Glob {
  private constructor(
    private readonly states: State[],
    private readonly start: number,
  ) {}

  /** @throws GlobSyntaxError for an unclosed `[` or `{`, an empty class, or a trailing `\`. */
  static compile(pattern: string): Glob {
    const parser = new Parser([...pattern]);
    const nodes = parser.sequence(false);
    if (!parser.done) throw new GlobSyntaxError(`unexpected "${parser.peek()}"`);
    const states: State[] = [{ kind: 'match' }];
    const start = compileSequence(nodes, 0, states);
    return new Glob(states, start);
  }

  matches(input: string): boolean {
    let current = this.closure([this.start]);
    for (const c of input) {
      const next: number[] = [];
      for (const index of current) {
        const state = this.states[index] as State;
        if (state.kind === 'char' && state.test(c)) next.push(state.next);
        else if (state.kind === 'star') next.push(index);
      }
      if (next.length === 0) return false;
      current = this.closure(next);
    }
    return current.has(0);
  }

  /** The states reachable from `indexes` without consuming a character. */
  private closure(indexes: number[]): Set<number> {
    const seen = new Set<number>();
    const stack = [...indexes];
    while (stack.length > 0) {
      const index = stack.pop() as number;
      if (seen.has(index)) continue;
      seen.add(index);
      const state = this.states[index] as State;
      if (state.kind === 'split') stack.push(...state.targets);
      else if (state.kind === 'star') stack.push(state.next);
    }
    return seen;
  }
}

/** Builds the states of `nodes` followed by state `next`; returns the first state. */
function compileSequence(nodes: Node[], next: number, states: State[]): number {
  let start = next;
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i] as Node;
    if (node.kind === 'alt') {
      const after = start;
      const targets = node.branches.map((branch) => compileSequence(branch, after, states));
      states.push({ kind: 'split', targets });
    } else if (node.kind === 'star') {
      states.push({ kind: 'star', next: start });
    } else {
      states.push({ kind: 'char', test: node.test, next: start });
    }
    start = states.length - 1;
  }
  return start;
}

function codeOf(c: string): number {
  return c.codePointAt(0) as number;
}

class Parser {
  private position = 0;

  constructor(private readonly chars: string[]) {}

  get done(): boolean {
    return this.position >= this.chars.length;
  }

  peek(): string | undefined {
    return this.chars[this.position];
  }

  private take(): string {
    const c = this.chars[this.position++];
    if (c === undefined) throw new GlobSyntaxError('pattern ends too early');
    return c;
  }

  /** Nodes up to the end, or (inside `{}`) up to an unescaped `,` or `}`. */
  sequence(inAlternatives: boolean): Node[] {
    const nodes: Node[] = [];
    while (!this.done) {
      const c = this.peek() as string;
      if (inAlternatives && (c === ',' || c === '}')) break;
      this.position++;
      if (c === '\\') {
        const literal = this.take();
        nodes.push({ kind: 'char', test: (x) => x === literal });
      } else if (c === '*') {
        if (nodes.at(-1)?.kind !== 'star') nodes.push({ kind: 'star' });
      } else if (c === '?') {
        nodes.push({ kind: 'char', test: () => true });
      } else if (c === '[') {
        nodes.push(this.characterClass());
      } else if (c === '{') {
        nodes.push(this.alternatives());
      } else {
        nodes.push({ kind: 'char', test: (x) => x === c });
      }
    }
    return nodes;
  }

  private characterClass(): Node {
    const negated = this.peek() === '!';
    if (negated) this.position++;
    const ranges: [number, number][] = [];
    for (;;) {
      if (this.done) throw new GlobSyntaxError('unclosed "["');
      const c = this.take();
      if (c === ']') break;
      const low = c === '\\' ? this.take() : c;
      if (this.peek() === '-' && this.chars[this.position + 1] !== ']' && this.chars[this.position + 1] !== undefined) {
        this.position++;
        const high = this.take();
        const top = high === '\\' ? this.take() : high;
        if (codeOf(top) < codeOf(low)) throw new GlobSyntaxError(`bad range "${low}-${top}"`);
        ranges.push([codeOf(low), codeOf(top)]);
      } else {
        ranges.push([codeOf(low), codeOf(low)]);
      }
    }
    if (ranges.length === 0) throw new GlobSyntaxError('empty "[]"');
    const inClass = (x: string) => {
      const code = codeOf(x);
      return ranges.some(([low, high]) => code >= low && code <= high);
    };
    return { kind: 'char', test: negated ? (x) => !inClass(x) : inClass };
  }

  private alternatives(): Node {
    const branches: Node[][] = [];
    for (;;) {
      branches.push(this.sequence(true));
      if (this.done) throw new GlobSyntaxError('unclosed "{"');
      if (this.take() === '}') break;
    }
    return { kind: 'alt', branches };
  }
}
