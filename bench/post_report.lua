-- wrk script: one incident report per request through the API: validation, three observables normalised,
-- the incident, its first stage with a signed receipt, the journal, notices and the audit entry, in one
-- transaction. Each request carries its own Idempotency-Key, as a careful client would.
local n = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"title":"Phishing dirigido a personal de finanzas","description":"Correos con enlace a un sitio que suplanta al SAT.","detected_at":"2026-11-20T09:30:00-06:00","rsit_class":"fraud","rsit_type":"phishing","severity":"medium","tlp":"AMBER","pap":"AMBER","observables":[{"value":"sat-devoluciones[.]example"},{"value":"198.51.100.23"},{"value":"hxxps://sat-devoluciones.example/efirma"}]}'
request = function()
  n = n + 1
  wrk.headers["Idempotency-Key"] = string.format("bench-%d-%d", math.random(1, 1000000000), n)
  return wrk.format(nil)
end
