// Terminal and CI logs: readable lines by default, one JSON object per line for shippers.
import type { Logger, LogLevel } from '../log/logger.ts';

export interface ConsoleLoggerOptions {
  format: 'text' | 'json';
  minimumLevel: LogLevel;
  write?: (line: string) => void;
}

const order: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export function createConsoleLogger(options: ConsoleLoggerOptions): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const log = (level: LogLevel, message: string, fields?: Record<string, unknown>) => {
    if (order[level] < order[options.minimumLevel]) return;
    if (options.format === 'json') {
      write(JSON.stringify({ time: new Date().toISOString(), level, message, ...fields }));
      return;
    }
    const prefix = level === 'info' ? '' : `${level}: `;
    write(`${prefix}${message}`);
  };
  return {
    debug: (message, fields) => log('debug', message, fields),
    info: (message, fields) => log('info', message, fields),
    warn: (message, fields) => log('warn', message, fields),
    error: (message, fields) => log('error', message, fields),
  };
}
