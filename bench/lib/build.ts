/**
 * Build steps before a run: Parley's server (when dist/ is missing or older
 * than its sources), the benchmark's own programs (plain JavaScript, so the
 * measured servers and the load generator carry no TypeScript loader), and
 * the seed's Go server when a Go toolchain is on PATH.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** Runs `npm run <script>` when `output` is missing or older than anything in `sources`. */
function buildIfStale(root: string, script: string, output: string, sources: string[], log: (text: string) => void): void {
  const outputPath = join(root, output);
  if (existsSync(outputPath) && Math.max(...sources.map((p) => newestMtime(join(root, p)))) <= statSync(outputPath).mtimeMs) return;
  log(`building Parley (npm run ${script})…`);
  const result = spawnSync('npm', ['run', '--silent', script], { cwd: root, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`npm run ${script} failed:\n${result.stdout}${result.stderr}`);
}

/**
 * Builds what Parley runs from when it is missing or stale: the native
 * socket writer (measured as users run it) and the server (`dist/`).
 */
export function ensureParleyBuilt(root: string, log: (text: string) => void): void {
  buildIfStale(root, 'build:native', 'native/build/Release/socket_write.node', ['native/socket_write.c', 'native/binding.gyp'], log);
  buildIfStale(root, 'build:server', 'dist/cli.js', ['src', 'tsconfig.json', 'tsconfig.build.json', 'package.json'], log);
}

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...tsFiles(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/**
 * Transpiles bench/lib, bench/load and bench/servers to JavaScript under
 * node_modules/.cache (inside the project, so their imports of `ws` and
 * `socket.io` resolve). Returns the output directory, which mirrors bench/.
 */
export function transpileBench(root: string): string {
  const benchDir = join(root, 'bench');
  const outDir = join(root, 'node_modules', '.cache', 'parley-bench', 'js');
  for (const sub of ['lib', 'load', 'servers']) {
    for (const file of tsFiles(join(benchDir, sub))) {
      const output = ts.transpileModule(readFileSync(file, 'utf8'), {
        fileName: file,
        compilerOptions: {
          module: ts.ModuleKind.ESNext,
          target: ts.ScriptTarget.ES2022,
          verbatimModuleSyntax: true,
          sourceMap: false,
        },
      });
      const target = join(outDir, relative(benchDir, file)).replace(/\.ts$/, '.js');
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, output.outputText);
    }
  }
  return outDir;
}

/** The seed's Go server built into a temporary directory, or why it could not be. */
export function buildGoServer(root: string): { binary: string } | { skipped: string } {
  let go: string;
  try {
    go = execFileSync('bash', ['-c', 'command -v go'], { encoding: 'utf8' }).trim();
  } catch {
    return {
      skipped:
        'no Go toolchain on PATH (on Debian: apt-get install golang-go golang-github-gorilla-websocket-dev builds it offline)',
    };
  }
  if (!go) return { skipped: 'no Go toolchain on PATH' };
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-go-'));
  const binary = join(dir, 'seed-go');
  let gopath = '';
  try {
    gopath = execFileSync(go, ['env', 'GOPATH'], { encoding: 'utf8' }).trim();
  } catch {
    // Use Debian's tree only.
  }
  // GOPATH mode finds gorilla/websocket in Debian's /usr/share/gocode without any network.
  const env = {
    ...process.env,
    GO111MODULE: 'off',
    GOPATH: [gopath, '/usr/share/gocode'].filter(Boolean).join(':'),
    GOCACHE: join(dir, 'cache'),
    GOFLAGS: '',
  };
  const result = spawnSync(go, ['build', '-o', binary, join(root, 'bench', 'servers', 'go', 'main.go')], { env, encoding: 'utf8' });
  if (result.status !== 0) {
    return { skipped: `go build failed (is github.com/gorilla/websocket installed, e.g. Debian's golang-github-gorilla-websocket-dev?): ${(result.stderr || result.stdout).trim().slice(0, 300)}` };
  }
  return { binary };
}

/** The Go toolchain's version line, or undefined. */
export function goVersion(): string | undefined {
  try {
    return execFileSync('go', ['version'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}
