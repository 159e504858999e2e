#!/usr/bin/env node
import { butlerCli } from '../butler.ts';

await butlerCli(process.argv.slice(2));
