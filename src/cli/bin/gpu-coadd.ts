#!/usr/bin/env node
import { gpuCoadd } from '../gpu-coadd.ts';

await gpuCoadd(process.argv.slice(2));
