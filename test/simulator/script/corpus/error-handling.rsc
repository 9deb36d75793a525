:do {
  /ip address add address=192.0.2.1/24 interface=no-such-port
} on-error={
  :put "could not add the address"
}
:do { :error "custom failure" } on-error={ :put "caught custom failure" }
:put "before"
/ip address remove [find interface=no-such-port]
/system script remove does-not-exist
:put "never printed"
