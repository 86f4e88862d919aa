// Tests log only errors unless asked otherwise (PARLEY_TEST_LOG_LEVEL=debug|info|warn).
import { logger, type Level } from '../engine/logger.ts';

logger.setLevel((process.env.PARLEY_TEST_LOG_LEVEL as Level | undefined) ?? 'error');
