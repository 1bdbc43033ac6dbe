/**
 * Godot's `Error` enum (core/error/error_list.h), with Godot's exact names and values.
 *
 * Operations that fail at run time return one of these, as Godot does. It is exported from the
 * package as `Error` (and as `GodotError`, which does not shadow JavaScript's global `Error`).
 */
export enum GodotError {
  OK = 0,
  FAILED = 1,
  ERR_UNAVAILABLE = 2,
  ERR_UNCONFIGURED = 3,
  ERR_UNAUTHORIZED = 4,
  ERR_PARAMETER_RANGE_ERROR = 5,
  ERR_OUT_OF_MEMORY = 6,
  ERR_FILE_NOT_FOUND = 7,
  ERR_FILE_BAD_DRIVE = 8,
  ERR_FILE_BAD_PATH = 9,
  ERR_FILE_NO_PERMISSION = 10,
  ERR_FILE_ALREADY_IN_USE = 11,
  ERR_FILE_CANT_OPEN = 12,
  ERR_FILE_CANT_WRITE = 13,
  ERR_FILE_CANT_READ = 14,
  ERR_FILE_UNRECOGNIZED = 15,
  ERR_FILE_CORRUPT = 16,
  ERR_FILE_MISSING_DEPENDENCIES = 17,
  ERR_FILE_EOF = 18,
  ERR_CANT_OPEN = 19,
  ERR_CANT_CREATE = 20,
  ERR_QUERY_FAILED = 21,
  ERR_ALREADY_IN_USE = 22,
  ERR_LOCKED = 23,
  ERR_TIMEOUT = 24,
  ERR_CANT_CONNECT = 25,
  ERR_CANT_RESOLVE = 26,
  ERR_CONNECTION_ERROR = 27,
  ERR_CANT_ACQUIRE_RESOURCE = 28,
  ERR_CANT_FORK = 29,
  ERR_INVALID_DATA = 30,
  ERR_INVALID_PARAMETER = 31,
  ERR_ALREADY_EXISTS = 32,
  ERR_DOES_NOT_EXIST = 33,
  ERR_DATABASE_CANT_READ = 34,
  ERR_DATABASE_CANT_WRITE = 35,
  ERR_COMPILATION_FAILED = 36,
  ERR_METHOD_NOT_FOUND = 37,
  ERR_LINK_FAILED = 38,
  ERR_SCRIPT_FAILED = 39,
  ERR_CYCLIC_LINK = 40,
  ERR_INVALID_DECLARATION = 41,
  ERR_DUPLICATE_SYMBOL = 42,
  ERR_PARSE_ERROR = 43,
  ERR_BUSY = 44,
  ERR_SKIP = 45,
  ERR_HELP = 46,
  ERR_BUG = 47,
  ERR_PRINTER_ON_FIRE = 48,
}

/**
 * Where Godot prints an error and returns a neutral value (its ERR_FAIL_* macros), we do the same
 * through this one function, so users can silence or redirect it with `setErrorReporter`.
 */
export type ErrorReporter = (message: string) => void;

// The default reporter is process.emitWarning, rate-limited: a message is printed the first time, its
// repeats within REPEAT_WINDOW_MS are counted, and the count is printed once the window closes (a
// Godot-style error in a poll loop would otherwise print hundreds of identical lines a second).
const REPEAT_WINDOW_MS = 1000;
const repeats = new Map<string, number>();

function emitWarning(message: string): void {
  process.emitWarning(message, 'GodotENetWarning');
}

function defaultReporter(message: string): void {
  const seen = repeats.get(message);
  if (seen !== undefined) {
    repeats.set(message, seen + 1);
    return;
  }
  emitWarning(message);
  repeats.set(message, 0);
  setTimeout(() => {
    const count = repeats.get(message) ?? 0;
    repeats.delete(message);
    if (count > 0) emitWarning(`${message} (repeated ${count} more time${count === 1 ? '' : 's'} in ${REPEAT_WINDOW_MS} ms)`);
  }, REPEAT_WINDOW_MS).unref();
}

let reporter: ErrorReporter = defaultReporter;

/** Sends Godot-style error messages to `fn` instead of process.emitWarning; null restores the default. */
export function setErrorReporter(fn: ErrorReporter | null): void {
  if (fn !== null && typeof fn !== 'function') throw new TypeError('setErrorReporter expects a function or null');
  reporter = fn ?? defaultReporter;
}

export function reportError(message: string): void {
  reporter(message);
}
