import type { FastifyInstance } from 'fastify';
import type { Platform } from '../platform.js';

export function registerMlflowRegistry(app: FastifyInstance, platform: Platform): void {
  void app;
  void platform;
}
