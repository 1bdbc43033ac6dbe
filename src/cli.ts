#!/usr/bin/env node
/**
 * `npx godot-enet manifest <godot-project-dir> [--out file.json]`: writes the game manifest (node paths,
 * @rpc tables, spawnable scenes, replicated properties) of a Godot 4 project as JSON. Errors are one line
 * on stderr and a nonzero exit status. It only reads text files, so it does not load the native addon.
 */
import * as fs from 'fs';
import { parseArgs } from 'util';
import { ManifestError } from './manifest/ManifestError';
import { readManifest } from './manifest/readManifest';

const USAGE = `Usage: godot-enet manifest <godot-project-dir> [--out <file.json>]

Reads a Godot 4 project's text files (project.godot, .tscn, .tres, .gd, .uid) and writes the manifest a
godot-enet SceneMultiplayer server loads: node paths, @rpc tables, spawnable scenes and replicated
properties with their Variant types. Without --out the JSON goes to standard output.

Options:
  -o, --out <file>  write the manifest to <file>
  -h, --help        show this help
`;

interface Streams {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/** Runs the command line; returns the exit status (0 done, 1 the project was refused, 2 wrong usage). */
export function main(argv: string[], io: Streams = process): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { out: { type: 'string', short: 'o' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (error) {
    io.stderr.write(`godot-enet: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  if (positionals[0] !== 'manifest' || positionals.length !== 2) {
    const what = positionals.length === 0 ? 'no command given' : positionals[0] !== 'manifest' ? `unknown command "${positionals[0]}"` : 'give exactly one project folder';
    io.stderr.write(`godot-enet: ${what}\n${USAGE}`);
    return 2;
  }
  try {
    const json = `${JSON.stringify(readManifest(positionals[1]), null, 2)}\n`;
    if (values.out !== undefined) fs.writeFileSync(values.out, json);
    else io.stdout.write(json);
    return 0;
  } catch (error) {
    const message = error instanceof ManifestError ? error.message : `${(error as Error).message ?? String(error)}`;
    io.stderr.write(`godot-enet: ${message.replace(/\n/g, ' ')}\n`);
    return 1;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
