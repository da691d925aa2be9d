// The installed bin, as CommonJS: a cold deploy from here ends ~10 ms sooner than from the ES module
// entry (measured alternated, 25 runs each), as Node sets up no ES module loader and links no graph
// before it. A deploy runs from here through its code-cached bundles; any other command loads the
// ES module program (main.ts), as it always did.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { endQuietlyWhenStdoutCloses, isDeployRun, runDeploy } from './entry.js';

const argv = process.argv.slice(2);
if (isDeployRun(argv)) {
  endQuietlyWhenStdoutCloses();
  void runDeploy(argv).then((code) => {
    process.exitCode = code;
  });
} else {
  void import(pathToFileURL(join(__dirname, 'x1deploy.js')).href);
}
