-- wrk script: one authenticated write per request (a contact and its audit entry, in one transaction).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"name":"Contacto de carga","title":"Enlace ante el CSIRT","email":"carga@sat.example","phone":"+52 55 5555 0000","is_24_7":false,"tlp":"AMBER"}'
