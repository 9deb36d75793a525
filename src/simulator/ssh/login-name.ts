/**
 * Splits an SSH login name into the user and the console options after `+`, as RouterOS does
 * before authenticating: `admin+cet1024w` is user `admin` with options `cet1024w` (`c` colours
 * off, `e` dumb terminal, `t` no terminal detection, `1024w` width).
 */
export function splitLoginName(loginName: string): { user: string; options: string } {
  const plus = loginName.indexOf('+');
  if (plus === -1) {
    return { user: loginName, options: '' };
  }

  return { user: loginName.slice(0, plus), options: loginName.slice(plus + 1) };
}
