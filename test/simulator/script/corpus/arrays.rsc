:local list {"alpha";"beta";"gamma"}
:put [:len $list]
:put ($list->1)
:local map {name="edge";site=12}
:put ($map->"name")
:set ($map->"site") 13
:put $map
:local joined ($list , "delta")
:put $joined
:put [:typeof $map]
:put [:pick $list 0 2]
:put [:find $list "gamma"]
:local parts [:toarray "10,20,30"]
:put ([:pick $parts 1] + 5)
