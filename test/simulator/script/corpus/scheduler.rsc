/system script add name=backup-config source=":log info \"backup started\""
/system scheduler add name=nightly-backup interval=1d start-time=03:00:00 \
    on-event="/system script run backup-config"
:put [/system scheduler get nightly-backup interval]
:put [/system scheduler get [find name=nightly-backup] on-event]
/system script run backup-config
:put [/system script get backup-config run-count]
:put [:len [/log find where message="backup started"]]
/system scheduler print count-only
