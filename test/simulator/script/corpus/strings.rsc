:local s "RouterOS scripting"
:put [:len $s]
:put [:pick $s 0 8]
:put [:find $s "script"]
:put [:tostr 42]
:put ([:tonum "0x1F"] + 1)
:put [:typeof [:tonum "abc"]]
:put "tab\there"
:put "dollar \$sign and quote \" and hex \41\42"
:local name "world"
:put "hello $name, $[:len $name] letters"
:put ("a" . 1 . true)
:put [:typeof 192.0.2.1]
:put [:typeof 192.0.2.0/24]
:put [:typeof *1A]
:put [:typeof 90s]
:put 90s
:put (1h30m + 15m)
:put (192.0.2.1 in 192.0.2.0/24)
:put ("edge-router" ~ "^edge")
