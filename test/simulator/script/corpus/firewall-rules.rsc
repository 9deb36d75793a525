# Add an address list and rules that use it, then report what exists.
/ip firewall address-list
add list=blocked address=203.0.113.7 comment="scanner"
add list=blocked address=198.51.100.0/24

/ip firewall filter
add chain=input action=drop src-address-list=blocked comment="drop blocked"
add chain=forward action=accept connection-state=established,related
add chain=forward action=drop connection-state=invalid disabled=yes

:put ("rules: " . [:len [find]])
:put ("forward rules: " . [:len [find where chain=forward]])
:foreach rule in=[find where disabled] do={
  :put ("disabled: " . [get $rule connection-state])
}
:local first [find comment="drop blocked"]
set $first action=reject reject-with=icmp-admin-prohibited
:put [get $first action]
print
