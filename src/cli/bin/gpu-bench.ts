#!/usr/bin/env node
import { gpuBench } from '../gpu-bench.ts';

await gpuBench(process.argv.slice(2));
