#!/usr/bin/env node
import { pipetaskCli } from '../pipetask.ts';

await pipetaskCli(process.argv.slice(2));
