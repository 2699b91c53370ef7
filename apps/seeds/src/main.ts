/**
 * Reproduces the five seed notebooks with the packages and prints, per
 * notebook, each quantity beside the notebook's value. Exits 1 on any mismatch.
 *
 *   pnpm seeds        (from the repository root)
 */
import { NOTEBOOKS } from './notebooks/index';
import { passed, renderReport } from './report';

function main(): number {
  let failures = 0;
  let rows = 0;
  for (const run of NOTEBOOKS) {
    const report = run();
    console.log(`${renderReport(report)}\n`);
    rows += report.rows.length;
    failures += report.rows.filter((r) => !passed(r)).length;
  }
  console.log(
    failures === 0
      ? `All ${rows} quantities of ${NOTEBOOKS.length} notebooks reproduced.`
      : `${failures} of ${rows} quantities do not reproduce.`,
  );
  return failures === 0 ? 0 : 1;
}

process.exitCode = main();
