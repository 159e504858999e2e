#!/usr/bin/env node
import { gpuJobCli } from '../gpu-job.ts';

await gpuJobCli(process.argv.slice(2));
