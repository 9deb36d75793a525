:local total 0
:for i from=1 to=10 do={ :set total ($total + $i) }
:put "sum=$total"
:for i from=10 to=1 step=-3 do={ :put $i }
:local n 0
:while ($n < 3) do={ :set n ($n + 1); :put "n=$n" }
:local k 5
:do { :set k ($k - 2) } while=($k > 0)
:put $k
:foreach key,value in={b=2;a=1;c=3} do={ :put ($key . "=" . $value) }
