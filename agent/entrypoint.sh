#!/bin/sh
# Starts the edge agent as the edge-agent user with the arguments given to the container.
#
# Started as root (RouterOS containers, `podman run --user 0`), it first makes the state
# directory the agent's and the configuration directory readable to its group, since a host
# directory mounted there belongs to root and RouterOS has no command to change its owner.
# It then drops to edge-agent with no capabilities. Started as any other user, it runs the
# agent as that user. `exec` keeps one process, so the signals tini forwards reach node.
set -eu

agent_uid=10001
agent_gid=10001
state_dir=/var/lib/edge-agent
config_dir=/etc/edge-agent

# The node options are those of systemd/edge-agent.service, whose comment gives the reason.
set -- /usr/local/bin/node --v8-pool-size=1 /opt/edge-agent/dist/src/cli/edge-agent.js "$@"

if [ "$(id -u)" -ne 0 ]; then
  exec "$@"
fi

mkdir -p "$state_dir"
chown -R "$agent_uid:$agent_gid" "$state_dir"
chmod 0700 "$state_dir"

# A read-only configuration mount cannot be changed. The agent then reports what it cannot read.
if [ -d "$config_dir" ]; then
  if ! { chgrp -R "$agent_gid" "$config_dir" && chmod -R g+rX "$config_dir"; } 2>/dev/null; then
    echo "edge-agent-entrypoint: cannot give group $agent_gid read access to $config_dir;" \
      "make it readable to uid $agent_uid if the agent cannot read its configuration" >&2
  fi
fi

exec setpriv --reuid="$agent_uid" --regid="$agent_gid" --clear-groups \
  --inh-caps=-all --bounding-set=-all --no-new-privs -- "$@"
