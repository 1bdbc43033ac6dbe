import * as fs from 'fs';
import { GodotError, reportError } from '../core/errors';

// File access of X509Certificate and CryptoKey, with Godot's errors: a file that cannot be opened is
// ERR_INVALID_PARAMETER, and the reason is reported.

/** The file's bytes, or null (reported) if it cannot be read. */
export function readFileOrReport(method: string, path: string): Buffer | null {
  try {
    return fs.readFileSync(path);
  } catch (cause) {
    reportError(`${method}: cannot open "${path}": ${(cause as Error).message}`);
    return null;
  }
}

/** Writes `text`; OK, or ERR_INVALID_PARAMETER (reported) if the file cannot be written. */
export function writeFileOrReport(method: string, path: string, text: string, mode = 0o644): GodotError {
  try {
    fs.writeFileSync(path, text, { mode });
    return GodotError.OK;
  } catch (cause) {
    reportError(`${method}: cannot write "${path}": ${(cause as Error).message}`);
    return GodotError.ERR_INVALID_PARAMETER;
  }
}
