# Branch baseline: DNS resolvers, NTP, and management access for the MSP jump host.
# Every step checks what is already there, so running it again changes nothing.
# The addresses are documentation placeholders; put your resolvers, NTP servers and jump host.

/ip dns set servers=192.0.2.53,198.51.100.53 allow-remote-requests=no

# RouterOS 7 takes one list of servers and RouterOS 6 two addresses. A device parses the whole
# script before running it and rejects arguments it does not know, even in a branch that never
# runs, so each variant is parsed only on the version that has it.
:local version [/system resource get version]
:local ntp "/system ntp client set enabled=yes servers=192.0.2.123,198.51.100.123"
:if ([:pick $version 0 1] = "6") do={
  :set ntp "/system ntp client set enabled=yes primary-ntp=192.0.2.123 secondary-ntp=198.51.100.123"
}
:local setNtp [:parse $ntp]
$setNtp

/ip firewall address-list
:if ([:len [find list=msp-mgmt address=203.0.113.10]] = 0) do={
  add list=msp-mgmt address=203.0.113.10 comment="MSP jump host"
}

# The accept rule must sit above the factory rule that drops input from outside the LAN.
# A router without the factory firewall needs a person to look at it, so stop there.
/ip firewall filter
:local lanDrop [find chain=input comment="defconf: drop all not coming from LAN"]
:if ([:len $lanDrop] = 0) do={
  :error "no defconf input drop rule on this router; review its firewall by hand"
}
:if ([:len [find comment="msp: allow management"]] = 0) do={
  add chain=input action=accept protocol=tcp dst-port=22,8728,8729 src-address-list=msp-mgmt \
    comment="msp: allow management" place-before=[:pick $lanDrop 0]
}

:put ("baseline applied on " . [/system identity get name] . ", RouterOS " . $version)
:put ("dns: " . [/ip dns get servers])
