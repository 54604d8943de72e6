// Where a run's wall time went, seen from outside the tool: while a Graph request was in
// flight at the fake Graph, while a WordPress request was in flight at the counting proxy,
// both at once (reading overlapping writing), or neither (the tool's own work: start-up,
// mapping, planning, and anything it waits on that is neither service).

export interface Interval {
  start: number;
  end: number;
}

export interface WaitBreakdown {
  /** Seconds with a Graph request in flight and no WordPress request. */
  graphOnly: number;
  /** Seconds with a WordPress request in flight and no Graph request. */
  wordpressOnly: number;
  /** Seconds with both in flight: Graph's time hidden behind WordPress's. */
  both: number;
  /** Seconds with neither in flight. */
  neither: number;
}

/** Splits [from, to] by which of the two request sets had something in flight. */
export function waitBreakdown(
  graph: readonly Interval[],
  wordpress: readonly Interval[],
  from: number,
  to: number,
): WaitBreakdown {
  // Sweep the sorted edges, keeping how many requests of each side are in flight.
  const edges: Array<{ at: number; side: 0 | 1; delta: 1 | -1 }> = [];
  const add = (intervals: readonly Interval[], side: 0 | 1) => {
    for (const { start, end } of intervals) {
      const a = Math.max(from, start);
      const b = Math.min(to, end);
      if (b <= a) continue;
      edges.push({ at: a, side, delta: 1 }, { at: b, side, delta: -1 });
    }
  };
  add(graph, 0);
  add(wordpress, 1);
  edges.sort((x, y) => x.at - y.at || x.delta - y.delta);
  const inFlight = [0, 0];
  const spent = { graphOnly: 0, wordpressOnly: 0, both: 0, neither: 0 };
  let last = from;
  const credit = (until: number) => {
    const span = until - last;
    if (span <= 0) return;
    const [g, w] = inFlight;
    if (g && w) spent.both += span;
    else if (g) spent.graphOnly += span;
    else if (w) spent.wordpressOnly += span;
    else spent.neither += span;
    last = until;
  };
  for (const edge of edges) {
    credit(edge.at);
    inFlight[edge.side] = (inFlight[edge.side] ?? 0) + edge.delta;
  }
  credit(to);
  const seconds = (ms: number) => ms / 1000;
  return {
    graphOnly: seconds(spent.graphOnly),
    wordpressOnly: seconds(spent.wordpressOnly),
    both: seconds(spent.both),
    neither: seconds(spent.neither),
  };
}

/** "Graph only 1.2 s, WordPress only 60.1 s, both 4.0 s, neither (the tool) 3.1 s" */
export function describeWaits(waits: WaitBreakdown): string {
  const s = (value: number) => `${value.toFixed(1)} s`;
  return `Graph only ${s(waits.graphOnly)}, WordPress only ${s(waits.wordpressOnly)}, both ${s(waits.both)}, neither (the tool) ${s(waits.neither)}`;
}
