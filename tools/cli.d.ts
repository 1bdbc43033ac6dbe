// Types of tools/cli.js (plain JavaScript, so that bench/run.js can use it too).
export interface CliOption<T = unknown> {
  type?: 'string' | 'boolean';
  multiple?: boolean;
  /** The value's name in --help, e.g. 'N' or 'host:port'. */
  value?: string;
  help: string;
  default?: T;
  parse?: (text: string) => T;
}
export type CliSpec = Record<string, CliOption>;
export type CliValues<S extends CliSpec> = {
  [K in keyof S]: S[K] extends CliOption<infer T> ? (S[K]['type'] extends 'boolean' ? boolean | undefined : T) : never;
};
export function parseCli<S extends CliSpec>(program: string, summary: string, spec: S, argv?: string[]): CliValues<S>;
export function integer(min?: number, max?: number): (text: string) => number;
export function number(min?: number, max?: number): (text: string) => number;
export function list(choices?: string[]): (text: string) => string[];
export function list<T>(choices: string[] | undefined, item: (text: string) => T): (text: string) => T[];
