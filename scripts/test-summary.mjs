// Print "N passed, N failed" from a vitest JSON report; exit 1 when the report is missing,
// any test failed, a test file failed without running its tests (an import error), or
// no test ran at all.
import { readFileSync } from 'node:fs';

const path = process.argv[2] ?? '.vitest-results.json';
let r;
try {
  r = JSON.parse(readFileSync(path, 'utf8'));
} catch (e) {
  console.log(`test-summary: no vitest report at ${path} (${e.message})`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const passed = r.numPassedTests ?? 0;
// Files that failed with no failing test inside (they did not load) count once each.
const brokenFiles = (r.testResults ?? []).filter(
  (f) => f.status === 'failed' && !(f.assertionResults ?? []).some((a) => a.status === 'failed'),
).length;
const failed = (r.numFailedTests ?? 0) + brokenFiles;
const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
