// Runs the CLI from source, as `parley` would from the build.
import { main } from '../../src/cli.js';

process.exitCode = await main(process.argv.slice(2));
