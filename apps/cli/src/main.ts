#!/usr/bin/env node
import { runCli } from './program.js';

// exitCode rather than exit(): output piped to another process is flushed first, and
// `chronicle server` keeps running on its open socket.
process.exitCode = await runCli(process.argv);
