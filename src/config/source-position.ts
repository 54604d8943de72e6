// Finds where a key path (jobs[0].actions.delete) is written in a YAML document, so every config
// error can say file:line:column.
import { type Document, isAlias, isMap, isScalar, isSeq, type LineCounter, type Node } from 'yaml';

export type KeyPath = readonly PropertyKey[];
export type Position = { line: number; column: number };

/**
 * Position of what `path` names in the file: its value when that is a scalar, otherwise (a section,
 * a list, an empty value, or `at: 'key'`) its key. When the path is not written in the file (a missing
 * key, a default), the key of the nearest written ancestor is used.
 */
export function positionOf(
  doc: Document,
  lineCounter: LineCounter,
  path: KeyPath,
  at: 'key' | 'value' = 'value',
): Position {
  let node: unknown = doc.contents;
  let best: Node | undefined = isNode(node) ? node : undefined;
  for (const [index, segment] of path.entries()) {
    if (isAlias(node)) node = node.resolve(doc);
    let keyNode: unknown;
    if (isMap(node)) {
      const pair = node.items.find((item) => keyText(item.key) === String(segment));
      if (!pair) break;
      keyNode = pair.key;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number' && segment < node.items.length) {
      node = node.items[segment];
    } else {
      break;
    }
    const last = index === path.length - 1;
    const value = isNode(node) && node.range ? node : undefined;
    const preferKey = (last && at === 'key') || !isScalar(value);
    best = (preferKey && isNode(keyNode) ? keyNode : value) ?? (isNode(keyNode) ? keyNode : best);
    if (!value) break;
  }
  return toPosition(lineCounter, best?.range?.[0] ?? 0);
}

export function toPosition(lineCounter: LineCounter, offset: number): Position {
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return typeof key === 'string' ? key : undefined;
}

function isNode(value: unknown): value is Node {
  return isMap(value) || isSeq(value) || isScalar(value) || isAlias(value);
}

/** jobs[0].map.meta["odd key"] */
export function formatKeyPath(path: KeyPath): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(String(segment)))
      text += text ? `.${String(segment)}` : String(segment);
    else text += `[${JSON.stringify(String(segment))}]`;
  }
  return text || '(top level)';
}
