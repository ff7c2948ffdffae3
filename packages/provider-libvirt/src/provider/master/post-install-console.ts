import type { PostInstallStep } from '@vmkit/core/spi';
import { VmkitError } from '@vmkit/core/spi';

const BEGIN = /VMKIT-STEP-BEGIN (\S+)\s*$/;
const END = /VMKIT-STEP-END (\S+) rc=(\d+)\s*$/;
const TAIL_LINES = 10;

/** What a post-install boot's console says about its steps. */
export interface PostInstallReport {
  /** Names of the steps that ended with rc 0, in order. */
  readonly succeeded: readonly string[];
  /** The step that failed or never ended, if any. */
  readonly failed?: {
    readonly name: string;
    /** Its exit status; `undefined` when the step began but never ended. */
    readonly rc?: number;
    /** Its last output lines (or the console's last lines when it never began). */
    readonly tail: readonly string[];
    /** Whether the step began at all. */
    readonly began: boolean;
  };
}

/**
 * Reads the markers the post-install script prints (see `postInstallScript`) from a console log:
 * every step must begin and end with `rc=0`, in order. Kernel lines (`[ ... ]`) are left out of
 * the output tails; line endings may be `\n` or `\r\n`.
 */
export function readPostInstallConsole(text: string, steps: readonly PostInstallStep[]): PostInstallReport {
  const lines = text.split(/\r?\n/).map((l) => l.replace(/\r/g, ''));
  const succeeded: string[] = [];
  let at = 0;
  for (const step of steps) {
    const begin = findLine(lines, at, (l) => BEGIN.exec(l)?.[1] === step.name);
    if (begin < 0) {
      return { succeeded, failed: { name: step.name, tail: tailOf(lines, 0, lines.length), began: false } };
    }
    const end = findLine(lines, begin + 1, (l) => END.exec(l)?.[1] === step.name);
    if (end < 0) {
      return {
        succeeded,
        failed: { name: step.name, tail: tailOf(lines, begin + 1, lines.length), began: true },
      };
    }
    const rc = Number(END.exec(lines[end] ?? '')?.[2]);
    if (rc !== 0) {
      return { succeeded, failed: { name: step.name, rc, tail: tailOf(lines, begin + 1, end), began: true } };
    }
    succeeded.push(step.name);
    at = end + 1;
  }
  return { succeeded };
}

/**
 * Throws `PROVIDER` naming the failed step, its exit status and its last output lines when the
 * report has a failure; `details` carry `step`, `rc` and `consoleTail`.
 */
export function assertPostInstallSucceeded(report: PostInstallReport): void {
  const f = report.failed;
  if (!f) return;
  const tail = f.tail.join('\n');
  const what = !f.began
    ? `post-install step ${f.name} never ran (no VMKIT-STEP-BEGIN ${f.name} on the console; does the image run a #! user-data script from a NoCloud drive?)`
    : f.rc === undefined
      ? `post-install step ${f.name} did not finish (no VMKIT-STEP-END on the console)`
      : `post-install step ${f.name} failed with rc ${f.rc}`;
  throw new VmkitError('PROVIDER', tail ? `${what}; last console lines:\n${tail}` : what, {
    details: { step: f.name, ...(f.rc === undefined ? {} : { rc: f.rc }), consoleTail: tail },
  });
}

function findLine(lines: readonly string[], from: number, test: (line: string) => boolean): number {
  for (let i = from; i < lines.length; i++) if (test(lines[i] ?? '')) return i;
  return -1;
}

function tailOf(lines: readonly string[], from: number, to: number): string[] {
  return lines
    .slice(from, to)
    .filter((l) => l.trim() !== '' && !/^\[\s*\d/.test(l))
    .slice(-TAIL_LINES);
}
