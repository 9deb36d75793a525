// Loaded with `node --import` before the agent: SIGUSR2 makes the process reject a promise
// that nothing handles, so a test can check what the daemon does with it.
process.on('SIGUSR2', () => {
  // biome-ignore lint/nursery/noFloatingPromises: the rejection is left unhandled on purpose.
  Promise.reject(new Error('injected failure'));
});
