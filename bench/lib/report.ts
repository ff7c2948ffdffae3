/** One measured figure. */
export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** The goal, e.g. `< 1000 ms`; printed beside the figure with a verdict. */
  readonly goal?: { readonly op: '<' | '>' | '<=' | '>='; readonly value: number };
  readonly note?: string;
}

/** Collects figures and side-by-side comparisons and prints them as aligned tables. */
export class BenchReport {
  readonly #rows: string[][] = [];
  #section = '';

  /** Starts a titled section. */
  section(title: string): void {
    this.#section = title;
    this.#rows.push([`## ${title}`]);
    console.log(`\n## ${title}`);
  }

  /** Records one figure and prints it. */
  figure(figure: Figure): void {
    const verdict = figure.goal ? (meets(figure.value, figure.goal) ? 'meets goal' : 'MISSES goal') : '';
    const goal = figure.goal ? `goal ${figure.goal.op} ${figure.goal.value} ${figure.unit}` : '';
    const row = [figure.name, fmt(figure.value), figure.unit, goal, verdict, figure.note ?? ''];
    this.#rows.push(row);
    console.log(`  ${row.filter(Boolean).join('  ')}`);
  }

  /** Prints two timings side by side and their ratio (`others / ours`: above 1 means ours is faster). */
  compare(
    label: string,
    ours: { name: string; ms: number },
    theirs: { name: string; ms: number },
    goalRatio?: number,
  ): void {
    const ratio = theirs.ms / ours.ms;
    const verdict =
      goalRatio === undefined
        ? ''
        : ratio >= goalRatio
          ? `meets goal >= ${goalRatio}x`
          : `MISSES goal >= ${goalRatio}x`;
    const line = `${label}: ${ours.name} ${fmt(ours.ms)} ms vs ${theirs.name} ${fmt(theirs.ms)} ms -> ${fmt(ratio)}x ${verdict}`;
    this.#rows.push([line]);
    console.log(`  ${line}`);
  }

  /** The current section title. */
  get currentSection(): string {
    return this.#section;
  }
}

function meets(value: number, goal: NonNullable<Figure['goal']>): boolean {
  switch (goal.op) {
    case '<':
      return value < goal.value;
    case '<=':
      return value <= goal.value;
    case '>':
      return value > goal.value;
    case '>=':
      return value >= goal.value;
  }
}

function fmt(n: number): string {
  if (Number.isInteger(n)) return String(n);
  return Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 1 ? n.toFixed(2) : n.toPrecision(3);
}

/** Milliseconds taken by `fn`, measured with the monotonic clock. */
export async function timeMs(fn: () => Promise<unknown> | unknown): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** The median of several runs of `fn`, in milliseconds. */
export async function medianMs(runs: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await timeMs(fn));
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] as number;
}
