/**
 * Everything the manifest reader refuses: a file it cannot read, a syntax it does not understand where it
 * matters, a reference it cannot resolve, a type it cannot determine. The message names the file (a
 * res:// path, or project.godot) and the line, says what is wrong and what to do about it.
 */
export class ManifestError extends Error {
  /** res:// path of the file at fault ('' when the project itself is at fault). */
  readonly file: string;
  /** 1-based line in that file; 0 when no line applies. */
  readonly line: number;

  constructor(file: string, line: number, message: string) {
    super(file ? `${file}${line > 0 ? `:${line}` : ''}: ${message}` : message);
    this.name = 'ManifestError';
    this.file = file;
    this.line = line;
  }
}
