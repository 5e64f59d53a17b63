// Two bench runs side by side: every ratio figure of the first (before) and the second (after), so a
// change's note can show before/after from one machine. Pure: compare.ts reads the files.
import type { Target } from './report.ts';

export interface RunFile {
  readonly meta?: {
    readonly date?: string;
    readonly commit?: string;
    readonly loadAverage?: readonly number[];
  };
  readonly targets: readonly Target[];
}

/** A ratio figure's value ("1.74×") as a number; undefined for every other figure. */
export function ratioOf(value: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)×$/.exec(value.trim());
  return match === null ? undefined : Number(match[1]);
}

/**
 * Rows [figure, before, after, after ÷ before] for every figure that is a ratio in either run, in the
 * order of the after run (figures only the before run has come last); a figure missing from a run is
 * shown as "—".
 */
export function compareRatios(before: RunFile, after: RunFile): string[][] {
  const ratios = (run: RunFile) =>
    new Map(run.targets.filter((t) => ratioOf(t.value) !== undefined).map((t) => [t.figure, t.value]));
  const was = ratios(before);
  const now = ratios(after);
  const figures = [...new Set([...now.keys(), ...was.keys()])];
  const label = (run: RunFile, fallback: string) =>
    [run.meta?.date?.slice(0, 16), run.meta?.commit].filter(Boolean).join(' ') || fallback;
  return [
    [
      'Figure',
      `before (${label(before, 'first file')})`,
      `after (${label(after, 'second file')})`,
      'after / before',
    ],
    ...figures.map((figure) => {
      const a = ratioOf(was.get(figure) ?? '');
      const b = ratioOf(now.get(figure) ?? '');
      return [
        figure,
        was.get(figure) ?? '—',
        now.get(figure) ?? '—',
        a === undefined || b === undefined || a === 0 ? '' : (b / a).toFixed(2),
      ];
    }),
  ];
}
