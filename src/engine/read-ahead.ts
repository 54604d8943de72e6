// Reading the next page while this one is written: Graph answers a page in hundreds of
// milliseconds (seconds when it throttles), and a run that asks for page k+1 only after
// page k is written spends that time with WordPress idle.

/**
 * Yields what `source` yields, in order, keeping up to `depth` further items being read
 * while the consumer works on the current one. A failure reading ahead comes out where the
 * item would have: after the consumer is done with the items before it.
 */
export async function* readAhead<T>(
  source: AsyncIterator<T>,
  depth: number,
  /** Called when the consumer stops early, before waiting for the read in flight. */
  stopReading: () => void = () => undefined,
): AsyncGenerator<T> {
  const pending: Array<Promise<IteratorResult<T>>> = [];
  let ended = false;
  const fill = () => {
    while (!ended && pending.length <= depth) {
      const next = source.next();
      // Seen here so that a failure read ahead is not an unhandled rejection; it is
      // thrown to the consumer when its turn comes.
      next.then(
        (result) => {
          if (result.done) ended = true;
        },
        () => {
          ended = true;
        },
      );
      pending.push(next);
    }
  };
  try {
    for (;;) {
      fill();
      const next = pending.shift();
      if (!next) return;
      const result = await next;
      if (result.done) return;
      yield result.value;
    }
  } finally {
    // An async generator answers return() only after the read in flight, which may be
    // waiting out a throttle: stopReading cuts that wait short.
    if (!ended) stopReading();
    await source.return?.().catch(() => undefined);
  }
}
