/**
 * Child-process entry of the kill test: executes a graph given as JSON spec in argv[2]
 * (`{ spec, jobs }`) and exits 0 when every quantum succeeded.
 */
import { executeGraph } from '../../../src/pipe/exec/index.ts';

const { spec, jobs } = JSON.parse(process.argv[2]!);
const summary = await executeGraph(spec, { jobs });
process.exit(summary.totals.failed > 0 ? 1 : 0);
