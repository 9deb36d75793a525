/ip dns set servers=192.0.2.53,198.51.100.53 allow-remote-requests=no
:local servers [/ip dns get servers]
:put $servers
:put [:typeof $servers]
:put [:typeof [/ip dns get allow-remote-requests]]
/system ntp client set enabled=yes servers=pool.ntp.org
:if ([/system ntp client get enabled]) do={
  :put "ntp enabled"
} else={
  :put "ntp disabled"
}
/ip dns export
