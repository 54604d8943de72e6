// A generated part of README.md: the text between <!-- NAME:start --> and <!-- NAME:end -->,
// rewritten by a generate-* script and compared by a drift test.

export interface ReadmeBlock {
  start: string;
  end: string;
}

export function readmeBlock(name: string): ReadmeBlock {
  return { start: `<!-- ${name}:start -->`, end: `<!-- ${name}:end -->` };
}

/** The README's text between the markers, or undefined when they are missing. */
export function blockIn(readme: string, block: ReadmeBlock): string | undefined {
  const start = readme.indexOf(block.start);
  const end = readme.indexOf(block.end);
  if (start < 0 || end < start) return undefined;
  return readme.slice(start + block.start.length, end).trim();
}

export function withBlock(readme: string, block: ReadmeBlock, content: string): string {
  const start = readme.indexOf(block.start);
  const end = readme.indexOf(block.end);
  if (start < 0 || end < start) throw new Error(`README.md has no ${block.start} … ${block.end} markers`);
  return `${readme.slice(0, start + block.start.length)}\n${content}\n${readme.slice(end)}`;
}

/** Text as one Markdown table cell. */
export const cell = (text: string) =>
  text
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\|/g, '\\|')
    .trim();
