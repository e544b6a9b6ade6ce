/**
 * Golden script files, in the style of etcd-io/raft's testdata: each case is
 * one command line, a `----` line, and the expected output up to the next
 * blank line. Lines starting with # between cases are comments.
 */
export interface ScriptCase {
  /** Comment and blank lines before the command, kept for rewriting. */
  readonly preamble: string[];
  readonly command: string;
  readonly expected: string;
  /** 1-based line of the command, for failure messages. */
  readonly line: number;
}

export function parseScript(text: string): ScriptCase[] {
  const lines = text.split('\n');
  const cases: ScriptCase[] = [];
  let preamble: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? '';
    if (line.trim() === '' || line.startsWith('#')) {
      preamble.push(line);
      i += 1;
      continue;
    }
    const commandLine = i + 1;
    if (lines[i + 1] !== '----') throw new Error(`line ${commandLine + 1}: expected ---- after the command`);
    const output: string[] = [];
    i += 2;
    while (i < lines.length && (lines[i] ?? '') !== '') {
      output.push(lines[i] ?? '');
      i += 1;
    }
    i += 1; // the blank line that ends the case
    cases.push({ preamble, command: line, expected: output.join('\n'), line: commandLine });
    preamble = [];
  }
  return cases;
}

export function renderScript(cases: readonly ScriptCase[], outputs: readonly string[]): string {
  const parts: string[] = [];
  cases.forEach((c, index) => {
    const output = outputs[index] ?? '';
    parts.push(...c.preamble, c.command, '----', ...(output === '' ? [] : [output]), '');
  });
  return `${trimTrailingBlank(parts).join('\n')}\n`;
}

function trimTrailingBlank(lines: string[]): string[] {
  const copy = [...lines];
  while (copy.length > 0 && copy.at(-1) === '') copy.pop();
  return copy;
}

/** `name arg1 arg2 key=value key2=(a,b)` */
export interface Command {
  readonly name: string;
  readonly args: string[];
  readonly options: Map<string, string>;
}

export function parseCommand(line: string): Command {
  const [name = '', ...rest] = line.trim().split(/\s+/);
  const args: string[] = [];
  const options = new Map<string, string>();
  for (const token of rest) {
    const eq = token.indexOf('=');
    if (eq > 0) options.set(token.slice(0, eq), token.slice(eq + 1));
    else args.push(token);
  }
  return { name, args, options };
}
