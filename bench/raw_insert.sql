-- pgbench script: the database's own rate for one small row per transaction.
INSERT INTO bench_raw (payload, at) VALUES ('Contacto de carga|Enlace ante el CSIRT|carga@sat.example|+52 55 5555 0000', now());
