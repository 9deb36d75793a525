:local name [/system identity get name]
:put "identity: $name"
/system identity set name=("$name-renamed")
:put [/system identity get name]
:put [/system resource get board-name]
:put [:len [/interface find where type=ether]]
:local id [/system script add name=probe source=":put probe"]
:put [:typeof $id]
:put [/system script get $id name]
:put [:len [/ip service find where disabled=no]]
:put [/ip service get [find name=ssh] port]
