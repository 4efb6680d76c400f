#!/usr/bin/env node
// The `audex` executable: runs the command line on this process's arguments and sets the exit code.
import { run } from './program.js';

process.exitCode = await run(process.argv);
