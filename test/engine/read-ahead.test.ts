import { setImmediate as macrotask } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { readAhead } from '../../src/engine/read-ahead.ts';

/** A source whose reads the test answers one by one, recording how many were asked for. */
function controlledSource(items: number, failAt?: number) {
  const answers: Array<() => void> = [];
  let asked = 0;
  let returned = false;
  async function* generate(): AsyncGenerator<number> {
    for (let item = 1; item <= items; item++) {
      asked = item;
      await new Promise<void>((resolve) => answers.push(resolve));
      if (item === failAt) throw new Error(`item ${item} could not be read`);
      yield item;
    }
  }
  const iterator = generate();
  const original = iterator.return.bind(iterator);
  iterator.return = (value) => {
    returned = true;
    return original(value);
  };
  return {
    iterator,
    asked: () => asked,
    returned: () => returned,
    answerNext: () => answers.shift()?.(),
  };
}

/** Lets every read the generator can start on its own start (promise callbacks, no timers). */
const settle = () => macrotask();

describe('readAhead', () => {
  it('reads up to `depth` items beyond the one being worked on, and no further', async () => {
    const source = controlledSource(6);
    const pages = readAhead(source.iterator, 2);
    const first = pages.next();
    await settle();
    expect(source.asked()).toBe(1);
    source.answerNext();
    expect((await first).value).toBe(1);
    // Item 1 is being worked on: items 2 and 3 are read meanwhile, item 4 is not asked for.
    await settle();
    expect(source.asked()).toBe(2);
    source.answerNext();
    await settle();
    expect(source.asked()).toBe(3);
    source.answerNext();
    await settle();
    expect(source.asked()).toBe(3);
    expect((await pages.next()).value).toBe(2);
    await settle();
    expect(source.asked()).toBe(4);
  });

  it('yields every item once, in order', async () => {
    const source = controlledSource(5);
    const seen: number[] = [];
    const answering = setInterval(source.answerNext, 0);
    try {
      for await (const item of readAhead(source.iterator, 2)) seen.push(item);
    } finally {
      clearInterval(answering);
    }
    expect(seen).toEqual([1, 2, 3, 4, 5]);
  });

  it('throws a failure read ahead only after the items before it were taken', async () => {
    const source = controlledSource(4, 3);
    const pages = readAhead(source.iterator, 2);
    const first = pages.next();
    source.answerNext();
    expect((await first).value).toBe(1);
    await settle();
    source.answerNext();
    await settle();
    source.answerNext();
    await settle();
    // Item 3 failed while item 1 was worked on; item 2 still comes first.
    expect((await pages.next()).value).toBe(2);
    await expect(pages.next()).rejects.toThrow('item 3 could not be read');
  });

  it('a consumer that stops early stops the read in flight and closes the source', async () => {
    const source = controlledSource(6);
    let stopped = 0;
    const pages = readAhead(source.iterator, 1, () => {
      stopped++;
      source.answerNext();
    });
    const first = pages.next();
    source.answerNext();
    expect((await first).value).toBe(1);
    await settle();
    expect(source.asked()).toBe(2);
    await pages.return(undefined);
    expect(stopped).toBe(1);
    expect(source.returned()).toBe(true);
  });
});
