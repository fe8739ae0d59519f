#!/usr/bin/env node
import { pino } from 'pino';
import { loadConfig } from './config.js';
import { startServer, stopOnSignals } from './server.js';

const config = loadConfig(process.env);
const logger = pino({ level: config.logLevel });
const server = await startServer(config, logger);
stopOnSignals(server, logger, config.shutdownGraceMs);
