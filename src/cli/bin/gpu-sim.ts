#!/usr/bin/env node
import { gpuSim } from '../gpu-sim.ts';

await gpuSim(process.argv.slice(2));
