// The command lines of examples/, bench/ and tools/: --help prints the options and exits 0; a bad option
// or value ends the program with one line on stderr (exit status 2), never a stack trace.
import { spawnSync } from 'child_process';
import path from 'path';
import { REPO_ROOT } from './helpers/loopback';

const node = (args: string[]) => {
  const run = spawnSync(process.execPath, args, { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
};
const tsTool = (name: string) => [path.join('tools', 'ts-run.js'), path.join('tools', `${name}.ts`)];

const CLIS: [string, string[], string[]][] = [
  // [what, how to start it, a bad value]
  ['examples/dedicated-server.js', ['examples/dedicated-server.js'], ['--port', 'abc']],
  ['bench/run.js', ['bench/run.js'], ['--rounds', 'x']],
  ['bench/replication.js', ['bench/replication.js'], ['--hz', 'fast']],
  ['tools/net-fuzz.ts', tsTool('net-fuzz'), ['--seconds', 'soon']],
  ['tools/impair-proxy.ts', tsTool('impair-proxy'), ['--loss', 'lots']],
  ['tools/reliability.ts', tsTool('reliability'), ['--only', 'everything']],
  ['tools/fuzz/js-fuzz.js', ['tools/fuzz/js-fuzz.js', 'variant'], ['--max-len', '0']],
  ['tools/scene-net-fuzz.ts', tsTool('scene-net-fuzz'), ['--packets', 'many']],
  ['scripts/prebuild/prebuild.js', ['scripts/prebuild/prebuild.js'], ['--target', 'linux-mips']],
];

describe.each(CLIS)('%s', (_what, start, bad) => {
  test('--help prints the usage and exits 0', () => {
    const run = node([...start, '--help']);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^usage: /);
  }, 60000);

  test('a bad value is refused in one line, exit status 2', () => {
    const run = node([...start, ...bad]);
    expect(run.status).not.toBe(0);
    const lines = run.stderr.trim().split('\n').filter((line) => !line.startsWith('usage:') && !line.startsWith('  '));
    expect(lines[0]).toContain(bad[1]);
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
  }, 60000);

  test('an unknown option is refused too', () => {
    const run = node([...start, '--no-such-option']);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/--no-such-option/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  }, 60000);
});
