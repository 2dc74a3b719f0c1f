/**
 * The matcher of file-name patterns in linear time. A pattern is literals, `*` (any characters but
 * `/`) and digit fields; compiled to a regular expression, a backtracking engine needs time
 * exponential in the number of `*` and fields on a name of digits (three 37-digit names blocked the
 * API for 9.5 s). This is a Pike VM (Thompson's NFA simulation with submatch tracking): each
 * character of the name advances every live state once, so a match costs O(name x pattern) steps.
 *
 * Which match, when several fit: the one a backtracking engine finds for the same pattern — `*`
 * and fields greedy (as long as possible), the leftmost element first. Threads are kept in that
 * priority order and the first to reach the end wins, which is exactly backtracking's answer.
 */

/** One element of a pattern. */
export type PatternElement = { kind: 'literal'; text: string } | { kind: 'star' } | { kind: 'digits' };

const enum Op {
  Literal,
  AnyButSlash,
  Digit,
  Split,
  Save,
  Match,
}

interface Instruction {
  op: Op;
  /** Literal: the UTF-16 code unit; Save: the capture slot. */
  arg: number;
  next: number;
  /** Split: the lower-priority branch (`next` is preferred). */
  alt: number;
}

const SLASH = 0x2f;
const ZERO = 0x30;
const NINE = 0x39;

/**
 * A thread's captures as a persistent list, newest save first: a save adds one node and threads
 * share the rest, so following a save costs O(1) instead of copying every slot.
 */
interface Saved {
  slot: number;
  pos: number;
  prev: Saved | undefined;
}

/** The live threads of one step, in priority order: parallel arrays reused step after step. */
class ThreadList {
  readonly pcs: Int32Array;
  readonly caps: (Saved | undefined)[];
  size = 0;

  constructor(capacity: number) {
    this.pcs = new Int32Array(capacity);
    this.caps = new Array<Saved | undefined>(capacity);
  }

  push(pc: number, caps: Saved | undefined): void {
    this.pcs[this.size] = pc;
    this.caps[this.size] = caps;
    this.size++;
  }
}

export class PatternMatcher {
  private readonly program: Instruction[] = [];
  private readonly slots: number;

  constructor(elements: readonly PatternElement[]) {
    let field = 0;
    for (const element of elements) {
      if (element.kind === 'literal') {
        for (let i = 0; i < element.text.length; i++) this.emit(Op.Literal, element.text.charCodeAt(i));
      } else if (element.kind === 'star') {
        // L: split(L+1, L+2); L+1: any -> L; L+2: ...
        const split = this.emit(Op.Split, 0);
        const any = this.emit(Op.AnyButSlash, 0);
        this.program[any]!.next = split;
        this.program[split]!.alt = this.program.length;
      } else {
        // save(2k); D: digit; split(D, after); save(2k+1)
        this.emit(Op.Save, 2 * field);
        const digit = this.emit(Op.Digit, 0);
        const split = this.emit(Op.Split, 0);
        this.program[split]!.next = digit;
        this.program[split]!.alt = split + 1;
        this.emit(Op.Save, 2 * field + 1);
        field++;
      }
    }
    this.emit(Op.Match, 0);
    this.slots = 2 * field;
  }

  /** The digit strings of the fields, in pattern order, or undefined when `name` does not match. */
  match(name: string): string[] | undefined {
    // each state enters a step's list at most once, so a list never holds more than the program
    const visited = new Int32Array(this.program.length).fill(-1);
    let current = new ThreadList(this.program.length);
    let next = new ThreadList(this.program.length);
    this.addThread(current, visited, 0, 0, undefined, 0);
    for (let pos = 0; pos < name.length && current.size > 0; pos++) {
      const c = name.charCodeAt(pos);
      next.size = 0;
      for (let t = 0; t < current.size; t++) {
        const ins = this.program[current.pcs[t]!]!;
        if (consumes(ins, c)) this.addThread(next, visited, pos + 1, ins.next, current.caps[t], pos + 1);
      }
      [current, next] = [next, current];
    }
    for (let t = 0; t < current.size; t++) {
      if (this.program[current.pcs[t]!]!.op === Op.Match) return this.fieldsOf(name, current.caps[t]);
    }
    return undefined;
  }

  private fieldsOf(name: string, caps: Saved | undefined): string[] {
    const at = new Array<number>(this.slots).fill(-1);
    for (let node = caps; node; node = node.prev) if (at[node.slot] === -1) at[node.slot] = node.pos;
    const fields: string[] = [];
    for (let k = 0; k < this.slots; k += 2) fields.push(name.slice(at[k], at[k + 1]));
    return fields;
  }

  private emit(op: Op, arg: number): number {
    const pc = this.program.length;
    this.program.push({ op, arg, next: pc + 1, alt: -1 });
    return pc;
  }

  /** Follows splits and saves from `pc` (in priority order), adding each state once per step. */
  private addThread(
    list: ThreadList,
    visited: Int32Array,
    step: number,
    pc: number,
    caps: Saved | undefined,
    pos: number,
  ): void {
    if (visited[pc] === step) return;
    visited[pc] = step;
    const ins = this.program[pc]!;
    if (ins.op === Op.Split) {
      this.addThread(list, visited, step, ins.next, caps, pos);
      this.addThread(list, visited, step, ins.alt, caps, pos);
    } else if (ins.op === Op.Save) {
      this.addThread(list, visited, step, ins.next, { slot: ins.arg, pos, prev: caps }, pos);
    } else {
      list.push(pc, caps);
    }
  }
}

function consumes(ins: Instruction, c: number): boolean {
  switch (ins.op) {
    case Op.Literal:
      return c === ins.arg;
    case Op.AnyButSlash:
      return c !== SLASH;
    case Op.Digit:
      return c >= ZERO && c <= NINE;
    default:
      return false;
  }
}
