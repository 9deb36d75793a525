// Runs one command with node-routeros in its own process and prints the rows as JSON, so a
// test can watch node-routeros crash without taking the test runner down with it.
// Usage: node node-routeros-command.cjs HOST PORT USER PASSWORD_FILE COMMAND [WORDS...]
const { readFileSync } = require('node:fs');
const { RouterOSAPI } = require('node-routeros');

async function main() {
  const [host, port, user, passwordFile, ...words] = process.argv.slice(2);
  const password = readFileSync(passwordFile, 'latin1').replace(/\n$/, '');
  const api = new RouterOSAPI({ host, port: Number(port), user, password, timeout: 5 });
  await api.connect();
  const rows = await api.write(words);
  process.stdout.write(`${JSON.stringify(rows)}\n`);
  await api.close();
}

main().catch((error) => {
  process.stderr.write(`rejected: ${error.message}\n`);
  process.exitCode = 3;
});
