// The summary email: a subject that carries the job and its counts, a text and an HTML
// body made from the run summary, and the results CSV attached (capped in size).
import { readFile } from 'node:fs/promises';
import { type JobRunSummary, renderSummaryMarkdown } from './run-summary.ts';

export type NotifyOn = 'never' | 'always' | 'changes' | 'failure';

export interface SummaryMail {
  subject: string;
  text: string;
  html: string;
  attachment: { filename: string; content: string } | undefined;
}

const changeActions = ['created', 'updated', 'restored', 'disabled', 'deleted'];
const subjectOrder = ['created', 'updated', 'restored', 'disabled', 'deleted', 'held', 'failed'];

export function shouldNotify(on: NotifyOn, summary: JobRunSummary): boolean {
  switch (on) {
    case 'never':
      return false;
    case 'always':
      return true;
    case 'changes':
      return changeActions.some((action) => (summary.counts[action] ?? 0) > 0);
    case 'failure':
      return (
        summary.fatalError !== undefined ||
        (summary.counts.failed ?? 0) > 0 ||
        summary.removals?.held === true
      );
  }
}

export function mailSubject(summary: JobRunSummary): string {
  const parts = subjectOrder
    .filter((action) => (summary.counts[action] ?? 0) > 0)
    .map((action) => `${summary.counts[action]} ${action}`);
  const state = summary.fatalError ? 'failed' : parts.length > 0 ? parts.join(', ') : 'no changes';
  return `entra-wp-sync ${summary.job}${summary.dryRun ? ' (preview)' : ''}: ${state}`;
}

export async function buildSummaryMail(
  summary: JobRunSummary,
  csvPath: string,
  maxAttachmentBytes: number,
): Promise<SummaryMail> {
  const markdown = renderSummaryMarkdown([summary]);
  const csv = await readFile(csvPath, 'utf8').catch(() => '');
  const lines = csv
    .split('\n')
    .filter((line, index) => index === 0 || line.includes(`,${csvCell(summary.job)},`));
  let attachment = lines.join('\n');
  let note = '';
  if (Buffer.byteLength(attachment) > maxAttachmentBytes) {
    attachment = attachment.slice(0, maxAttachmentBytes);
    attachment = attachment.slice(0, attachment.lastIndexOf('\n') + 1);
    note = `The attached results.csv was cut to ${Math.round(maxAttachmentBytes / 1024)} KiB; the full file is in the run's reports.`;
  }
  const text = note ? `${markdown}\n\n${note}\n` : `${markdown}\n`;
  return {
    subject: mailSubject(summary),
    text,
    html: markdownToHtml(text),
    attachment:
      lines.length > 1 ? { filename: `results-${summary.job}.csv`, content: attachment } : undefined,
  };
}

function csvCell(text: string): string {
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Enough Markdown for the summary's own output: headings, tables, paragraphs, details. */
export function markdownToHtml(markdown: string): string {
  const html: string[] = ['<div style="font-family: sans-serif">'];
  const blocks = markdown.split(/\n{2,}/);
  for (const block of blocks) {
    const lines = block.split('\n');
    if (lines.every((line) => line.startsWith('|'))) {
      const rows = lines.filter((line) => !/^\|( ?-+ ?\|)+$/.test(line)).map(cells);
      const [head, ...body] = rows;
      html.push(
        '<table border="1" cellpadding="4" cellspacing="0">',
        `<tr>${(head ?? []).map((cell) => `<th>${cell}</th>`).join('')}</tr>`,
        ...body.map((row) => `<tr>${row.map((cell) => `<td>${cell}</td>`).join('')}</tr>`),
        '</table>',
      );
    } else if (/^#{1,6} /.test(block)) {
      const level = block.indexOf(' ');
      html.push(`<h${level + 1}>${inline(block.slice(level + 1))}</h${level + 1}>`);
    } else if (/^<\/?details|^<summary/.test(block)) {
      html.push(
        block.replace(/<\/?details>/g, '').replace(/<summary>(.*)<\/summary>/, '<p><strong>$1</strong></p>'),
      );
    } else if (lines.every((line) => line.startsWith('- '))) {
      html.push(`<ul>${lines.map((line) => `<li>${inline(line.slice(2))}</li>`).join('')}</ul>`);
    } else {
      html.push(`<p>${inline(block)}</p>`);
    }
  }
  html.push('</div>');
  return html.join('\n');
}

function cells(line: string): string[] {
  return line
    .slice(1, -1)
    .split(/(?<!\\)\|/)
    .map((cell) => inline(cell.trim()));
}

/** Markdown escapes undone, then HTML-escaped: Entra text stays text. */
function inline(text: string): string {
  return text
    .replace(/\\([\\`*_{}[\]()<>#+!|~])/g, '$1')
    .replace(/&amp;/g, '&')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\*\*(.+?)\*\*/g, '<strong>$1</strong>')
    .replace(/`([^`]+)`/g, '<code>$1</code>');
}
