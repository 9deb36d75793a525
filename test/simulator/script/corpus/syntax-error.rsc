:put "first"
:if ($a = 1) do={
  :put "nested"
  /ip addres print
}
