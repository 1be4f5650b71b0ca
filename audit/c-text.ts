// C source with comments (and, if asked, string and character literals) blanked to
// spaces, newlines kept: a scan then sees neither commented-out code nor shifted lines.

export interface BlankOptions {
  // Also blank "..." and '...' literals (default: keep them).
  readonly literals?: boolean;
}

const blank = (text: string) => text.replace(/[^\n]/g, ' ');

// End (exclusive) of the literal opened by the quote at `start`; stops before a bare newline.
function literalEnd(source: string, start: number): number {
  const quote = source[start];
  let i = start + 1;
  while (i < source.length && source[i] !== quote && source[i] !== '\n') i += source[i] === '\\' ? 2 : 1;
  return Math.min(source[i] === quote ? i + 1 : i, source.length);
}

// The source with every comment (and optionally literal) replaced by spaces.
export function blankComments(source: string, options: BlankOptions = {}): string {
  const out: string[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    const next = source[i + 1];
    let end: number;
    if (c === '/' && next === '*') {
      const close = source.indexOf('*/', i + 2);
      end = close < 0 ? source.length : close + 2;
      out.push(blank(source.slice(i, end)));
    } else if (c === '/' && next === '/') {
      const newline = source.indexOf('\n', i);
      end = newline < 0 ? source.length : newline;
      out.push(blank(source.slice(i, end)));
    } else if (c === '"' || c === "'") {
      end = literalEnd(source, i);
      const text = source.slice(i, end);
      out.push(options.literals ? blank(text) : text);
    } else {
      end = i + 1;
      out.push(c);
    }
    i = end;
  }
  return out.join('');
}
