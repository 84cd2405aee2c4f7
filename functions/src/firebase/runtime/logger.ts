import * as functionsLogger from 'firebase-functions/logger';
import type { Logger } from '../../ports';

/** The engine's Logger on Cloud Logging: structured entries, fields as JSON payload. */
export const cloudLogger: Logger = {
  info: (message, fields) => functionsLogger.info(message, fields ?? {}),
  warn: (message, fields) => functionsLogger.warn(message, fields ?? {}),
  error: (message, fields) => functionsLogger.error(message, fields ?? {}),
};
