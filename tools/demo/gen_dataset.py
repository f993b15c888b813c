#!/usr/bin/env python3
"""Generate Baluarte's Mexican demo dataset.

Usage (from the repository root):

    python3 tools/demo/gen_dataset.py [SHARED_MX_DIR]

SHARED_MX_DIR defaults to ``../shared/data/mx`` relative to the repository root and must hold
``states.json`` and ``institutions-and-sectors.json``. The output is written to
``crates/baluarte-core/src/demo/mx-dataset.json``.

The script is deterministic (fixed seed, no clock, no environment input): running it twice on
the same inputs gives byte-identical output. Standard library only.

What is real and what is not:
  * sectors, states, federal institutions: copied from the shared reference files;
  * a few extra autonomous bodies, the 32 state governments and the municipal governments are
    real public bodies (names only);
  * private operators, people, e-mail addresses and phone numbers are fictional. E-mails use
    the reserved ``.example`` TLD; phone numbers use the right area code with random digits.
"""

import json
import random
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path

SEED = 20250917
NOTE = "Demo data. Private operators, people, e-mails and phone numbers are fictional."

REPO_ROOT = Path(__file__).resolve().parents[2]
OUTPUT = REPO_ROOT / "crates" / "baluarte-core" / "src" / "demo" / "mx-dataset.json"
DEFAULT_SHARED = REPO_ROOT / ".." / "shared" / "data" / "mx"

KINDS = ("federal", "state", "municipal", "autonomous", "private")
TLPS = ("RED", "AMBER+STRICT", "AMBER", "GREEN", "CLEAR")
ROLES = ("security_officer", "reporter")
NATIONAL_AUTHORITY = "ATDT"

# --------------------------------------------------------------------------------------------
# Places. Every entity is located in a city: it gives the area code of its phone numbers and,
# for the few border municipalities that the IANA database splits off their state (they keep
# US-aligned daylight saving time), the time zone. Everything else uses the state's zone.
# city id: (name, state ISO code, area code, time-zone override or None)
# --------------------------------------------------------------------------------------------
CITIES = {
    "aguascalientes": ("Aguascalientes", "MX-AGU", "449", None),
    "mexicali": ("Mexicali", "MX-BCN", "686", None),
    "tijuana": ("Tijuana", "MX-BCN", "664", None),
    "ensenada": ("Ensenada", "MX-BCN", "646", None),
    "la-paz": ("La Paz", "MX-BCS", "612", None),
    "los-cabos": ("San José del Cabo", "MX-BCS", "624", None),
    "campeche": ("San Francisco de Campeche", "MX-CAM", "981", None),
    "ciudad-del-carmen": ("Ciudad del Carmen", "MX-CAM", "938", None),
    "saltillo": ("Saltillo", "MX-COA", "844", None),
    "torreon": ("Torreón", "MX-COA", "871", None),
    "monclova": ("Monclova", "MX-COA", "866", None),
    "colima": ("Colima", "MX-COL", "312", None),
    "manzanillo": ("Manzanillo", "MX-COL", "314", None),
    "tuxtla": ("Tuxtla Gutiérrez", "MX-CHP", "961", None),
    "tapachula": ("Tapachula", "MX-CHP", "962", None),
    "chihuahua": ("Chihuahua", "MX-CHH", "614", None),
    "juarez": ("Ciudad Juárez", "MX-CHH", "656", "America/Ciudad_Juarez"),
    "cuauhtemoc": ("Cuauhtémoc", "MX-CHH", "625", None),
    "cdmx": ("Ciudad de México", "MX-CMX", "55", None),
    "durango": ("Victoria de Durango", "MX-DUR", "618", None),
    "gomez-palacio": ("Gómez Palacio", "MX-DUR", "871", None),
    "guanajuato": ("Guanajuato", "MX-GUA", "473", None),
    "leon": ("León", "MX-GUA", "477", None),
    "celaya": ("Celaya", "MX-GUA", "461", None),
    "irapuato": ("Irapuato", "MX-GUA", "462", None),
    "silao": ("Silao", "MX-GUA", "472", None),
    "chilpancingo": ("Chilpancingo", "MX-GRO", "747", None),
    "acapulco": ("Acapulco", "MX-GRO", "744", None),
    "pachuca": ("Pachuca", "MX-HID", "771", None),
    "tula": ("Tula de Allende", "MX-HID", "773", None),
    "guadalajara": ("Guadalajara", "MX-JAL", "33", None),
    "zapopan": ("Zapopan", "MX-JAL", "33", None),
    "puerto-vallarta": ("Puerto Vallarta", "MX-JAL", "322", None),
    "toluca": ("Toluca", "MX-MEX", "722", None),
    "naucalpan": ("Naucalpan", "MX-MEX", "55", None),
    "ecatepec": ("Ecatepec", "MX-MEX", "55", None),
    "morelia": ("Morelia", "MX-MIC", "443", None),
    "lazaro-cardenas": ("Lázaro Cárdenas", "MX-MIC", "753", None),
    "uruapan": ("Uruapan", "MX-MIC", "452", None),
    "cuernavaca": ("Cuernavaca", "MX-MOR", "777", None),
    "tepic": ("Tepic", "MX-NAY", "311", None),
    "monterrey": ("Monterrey", "MX-NLE", "81", None),
    "san-pedro": ("San Pedro Garza García", "MX-NLE", "81", None),
    "apodaca": ("Apodaca", "MX-NLE", "81", None),
    "oaxaca": ("Oaxaca", "MX-OAX", "951", None),
    "salina-cruz": ("Salina Cruz", "MX-OAX", "971", None),
    "juchitan": ("Juchitán", "MX-OAX", "971", None),
    "puebla": ("Puebla", "MX-PUE", "222", None),
    "queretaro": ("Querétaro", "MX-QUE", "442", None),
    "chetumal": ("Chetumal", "MX-ROO", "983", None),
    "cancun": ("Cancún", "MX-ROO", "998", None),
    "playa-del-carmen": ("Playa del Carmen", "MX-ROO", "984", None),
    "slp": ("San Luis Potosí", "MX-SLP", "444", None),
    "culiacan": ("Culiacán", "MX-SIN", "667", None),
    "mazatlan": ("Mazatlán", "MX-SIN", "669", None),
    "los-mochis": ("Los Mochis", "MX-SIN", "668", None),
    "hermosillo": ("Hermosillo", "MX-SON", "662", None),
    "obregon": ("Ciudad Obregón", "MX-SON", "644", None),
    "guaymas": ("Guaymas", "MX-SON", "622", None),
    "nogales": ("Nogales", "MX-SON", "631", None),
    "villahermosa": ("Villahermosa", "MX-TAB", "993", None),
    "victoria": ("Ciudad Victoria", "MX-TAM", "834", None),
    "tampico": ("Tampico", "MX-TAM", "833", None),
    "altamira": ("Altamira", "MX-TAM", "833", None),
    "reynosa": ("Reynosa", "MX-TAM", "899", "America/Matamoros"),
    "nuevo-laredo": ("Nuevo Laredo", "MX-TAM", "867", "America/Matamoros"),
    "matamoros": ("Matamoros", "MX-TAM", "868", "America/Matamoros"),
    "tlaxcala": ("Tlaxcala", "MX-TLA", "246", None),
    "xalapa": ("Xalapa", "MX-VER", "228", None),
    "veracruz": ("Veracruz", "MX-VER", "229", None),
    "coatzacoalcos": ("Coatzacoalcos", "MX-VER", "921", None),
    "tuxpan": ("Tuxpan", "MX-VER", "783", None),
    "poza-rica": ("Poza Rica", "MX-VER", "782", None),
    "merida": ("Mérida", "MX-YUC", "999", None),
    "progreso": ("Progreso", "MX-YUC", "969", None),
    "zacatecas": ("Zacatecas", "MX-ZAC", "492", None),
}

# Zones that the IANA database gives to border municipalities only (see states.json's note).
BORDER_ZONES = {"America/Ciudad_Juarez", "America/Matamoros", "America/Ojinaga", "America/Bahia_Banderas"}

# Capital city of each state (for the state government's phone numbers).
CAPITALS = {
    "MX-AGU": "aguascalientes", "MX-BCN": "mexicali", "MX-BCS": "la-paz", "MX-CAM": "campeche",
    "MX-COA": "saltillo", "MX-COL": "colima", "MX-CHP": "tuxtla", "MX-CHH": "chihuahua",
    "MX-CMX": "cdmx", "MX-DUR": "durango", "MX-GUA": "guanajuato", "MX-GRO": "chilpancingo",
    "MX-HID": "pachuca", "MX-JAL": "guadalajara", "MX-MEX": "toluca", "MX-MIC": "morelia",
    "MX-MOR": "cuernavaca", "MX-NAY": "tepic", "MX-NLE": "monterrey", "MX-OAX": "oaxaca",
    "MX-PUE": "puebla", "MX-QUE": "queretaro", "MX-ROO": "chetumal", "MX-SLP": "slp",
    "MX-SIN": "culiacan", "MX-SON": "hermosillo", "MX-TAB": "villahermosa", "MX-TAM": "victoria",
    "MX-TLA": "tlaxcala", "MX-VER": "xalapa", "MX-YUC": "merida", "MX-ZAC": "zacatecas",
}

# Region phrase used in fictional company names ("Banco Nogal del Noreste").
REGIONS = {
    "del Noroeste": ("MX-BCN", "MX-BCS", "MX-SON", "MX-SIN"),
    "del Norte": ("MX-CHH", "MX-DUR", "MX-COA"),
    "del Noreste": ("MX-NLE", "MX-TAM"),
    "de Occidente": ("MX-JAL", "MX-NAY", "MX-COL", "MX-MIC"),
    "del Bajío": ("MX-AGU", "MX-GUA", "MX-QUE"),
    "del Altiplano": ("MX-SLP", "MX-ZAC"),
    "del Centro": ("MX-CMX", "MX-MEX", "MX-MOR", "MX-HID", "MX-TLA", "MX-PUE"),
    "del Golfo": ("MX-VER", "MX-TAB"),
    "del Sur": ("MX-OAX", "MX-GRO", "MX-CHP"),
    "del Sureste": ("MX-YUC", "MX-CAM", "MX-ROO"),
}
REGION_OF = {iso: phrase for phrase, isos in REGIONS.items() for iso in isos}

# --------------------------------------------------------------------------------------------
# Federal institutions: refinements of the shared file (which gives top-level sectors only).
# --------------------------------------------------------------------------------------------
# A subsector of the sector the shared file gives, where the institution's role is clear.
FEDERAL_SUBSECTOR = {
    "CFE": "electricidad", "CENACE": "electricidad",
    "PEMEX": "hidrocarburos", "CENAGAS": "hidrocarburos",
    "BANXICO": "pagos", "CNBV": "banca", "CNSF": "seguros", "CONSAR": "seguros",
    "ASA": "aereo", "SENEAM": "aereo",
    "CRT": "redes", "TELECOMM": "redes",
    "IMSS": "hospitales", "ISSSTE": "hospitales",
}
# Head of sector (coordinating ministry) where it is unambiguous.
FEDERAL_PARENT = {
    "GN": "SEDENA",
    "SAT": "SHCP", "CNBV": "SHCP", "CNSF": "SHCP", "CONSAR": "SHCP", "CONDUSEF": "SHCP",
    "PROFECO": "SE", "IPN": "SEP",
    "CENACE": "SENER", "CENAGAS": "SENER", "CFE": "SENER", "PEMEX": "SENER",
    "CONAGUA": "SEMARNAT",
    "ASA": "SICT", "SENEAM": "SICT",
    "CRT": "ATDT",
    "CENAPRED": "SSPC", "SESNSP": "SSPC",
    "SIPINNA": "SEGOB",
}
# Headquarters outside Mexico City (the shared file gives no location: default MX-CMX).
FEDERAL_CITY = {"INEGI": "aguascalientes"}
# Shared-file kinds that are autonomous bodies rather than the federal public administration.
AUTONOMOUS_FILE_KINDS = {"autonomo"}

# Autonomous bodies not in the shared list (as of 2025; IFT, COFECE, INAI, CRE and CNH were
# dissolved in 2025 and are deliberately absent). (acronym, name, sector, city)
EXTRA_AUTONOMOUS = [
    ("CNDH", "Comisión Nacional de los Derechos Humanos", "autonomo", "cdmx"),
    ("ASF", "Auditoría Superior de la Federación", "autonomo", "cdmx"),
    ("TFJA", "Tribunal Federal de Justicia Administrativa", "autonomo", "cdmx"),
    ("UAM", "Universidad Autónoma Metropolitana", "educacion", "cdmx"),
    ("UANL", "Universidad Autónoma de Nuevo León", "educacion", "san-pedro"),
]

# Municipal governments: (key, city id of the seat, official municipality name, label or None)
MUNICIPALITIES = [
    ("mun-aguascalientes", "aguascalientes", "Aguascalientes", None),
    ("mun-mexicali", "mexicali", "Mexicali", None),
    ("mun-tijuana", "tijuana", "Tijuana", None),
    ("mun-la-paz", "la-paz", "La Paz", "Baja California Sur"),
    ("mun-campeche", "campeche", "Campeche", None),
    ("mun-saltillo", "saltillo", "Saltillo", None),
    ("mun-torreon", "torreon", "Torreón", None),
    ("mun-tuxtla-gutierrez", "tuxtla", "Tuxtla Gutiérrez", None),
    ("mun-chihuahua", "chihuahua", "Chihuahua", None),
    ("mun-juarez", "juarez", "Juárez", "Chihuahua"),
    ("mun-durango", "durango", "Durango", None),
    ("mun-leon", "leon", "León", None),
    ("mun-acapulco", "acapulco", "Acapulco de Juárez", None),
    ("mun-pachuca", "pachuca", "Pachuca de Soto", None),
    ("mun-guadalajara", "guadalajara", "Guadalajara", None),
    ("mun-zapopan", "zapopan", "Zapopan", None),
    ("mun-toluca", "toluca", "Toluca", None),
    ("mun-ecatepec", "ecatepec", "Ecatepec de Morelos", None),
    ("mun-morelia", "morelia", "Morelia", None),
    ("mun-cuernavaca", "cuernavaca", "Cuernavaca", None),
    ("mun-tepic", "tepic", "Tepic", None),
    ("mun-monterrey", "monterrey", "Monterrey", None),
    ("mun-oaxaca", "oaxaca", "Oaxaca de Juárez", None),
    ("mun-puebla", "puebla", "Puebla", None),
    ("mun-queretaro", "queretaro", "Querétaro", None),
    ("mun-benito-juarez", "cancun", "Benito Juárez", "Cancún"),
    ("mun-san-luis-potosi", "slp", "San Luis Potosí", None),
    ("mun-culiacan", "culiacan", "Culiacán", None),
    ("mun-mazatlan", "mazatlan", "Mazatlán", None),
    ("mun-hermosillo", "hermosillo", "Hermosillo", None),
    ("mun-centro", "villahermosa", "Centro", "Villahermosa, Tabasco"),
    ("mun-reynosa", "reynosa", "Reynosa", None),
    ("mun-veracruz", "veracruz", "Veracruz", None),
    ("mun-merida", "merida", "Mérida", None),
]

# --------------------------------------------------------------------------------------------
# Fictional private operators. Brand words are Mexican flora, fauna and landscape terms; a
# brand may be reused once in another subsector (as within a business group). Each template
# takes {b} brand, {r} region phrase, {c} city name.
# --------------------------------------------------------------------------------------------
BRANDS = [
    "Ahuehuete", "Cenzontle", "Huizache", "Tezontle", "Mezquite", "Jacaranda", "Ocotillo",
    "Cantera", "Obsidiana", "Sotol", "Palo Verde", "Pitahaya", "Guamúchil", "Zapote",
    "Tamarindo", "Garza Blanca", "Peña Azul", "Alborada", "Cañada Honda", "Piedra Lumbre",
    "Real de Minas", "Ocelote", "Cardonal", "Nogal", "Encino", "Sabino", "Pirul", "Maguey",
    "Agave Azul", "Marea Alta", "Arrecife", "Bahía Serena", "Cempasúchil", "Ajolote",
    "Xoconostle", "Huapango", "Jarana", "Tule", "Ceiba Roja", "Caoba", "Chicozapote",
    "Henequén", "Zacatal", "Bacanora", "Cardón", "Biznaga", "Chaparral",
    "Tecolote", "Cacomixtle", "Alcatraz", "Nochebuena", "Bugambilia", "Azahar",
    "Fresno", "Álamo", "Oyamel", "Ocote", "Manglar", "Turquesa", "Ópalo", "Ágata", "Ónix",
    "Basalto", "Cuarzo", "Paralelo 23", "Altamar", "Estero",
    "Médano", "Arenal", "Tepozán", "Capulín", "Tejocote", "Guayacán", "Amate", "Copal", "Ixtle",
    "Candelilla", "Lechuguilla", "Gobernadora", "Palo Fierro", "Sauzal", "Tlacuache", "Berrendo",
    "Cimarrón", "Tortuga Verde", "Luciérnaga", "Mariposa Monarca", "Rosa de los Vientos",
    "Estrella Polar", "Lucero del Alba", "Pléyades", "Luna Nueva",
    "Cerro Alto", "Loma Dorada", "Chinampa", "Milpa", "Trajinera",
    "Tlalli", "Cactácea", "Pochote", "Guaje", "Huanacaxtle", "Parota",
    "Tabachín", "Ocozol", "Piñón", "Sahuaro", "Cascabel", "Tenamaxtle",
]

# subsector -> list of (template, city id). Order within a subsector is the output order.
PRIVATE = {
    "banca": [
        ("Banco {b}, S.A., Institución de Banca Múltiple", "cdmx"),
        ("Banco {b} {r}, S.A., Institución de Banca Múltiple", "monterrey"),
        ("Banco {b} {r}, S.A., Institución de Banca Múltiple", "guadalajara"),
        ("Banca {b}, S.A., Institución de Banca Múltiple, Grupo Financiero {b}", "cdmx"),
        ("Banco {b} {r}, S.A., Institución de Banca Múltiple", "leon"),
        ("Banco {b}, S.A., Institución de Banca Múltiple", "san-pedro"),
        ("Banco {b} {r}, S.A., Institución de Banca Múltiple", "merida"),
        ("Banco {b} {r}, S.A., Institución de Banca Múltiple", "hermosillo"),
        ("Banco {b} {r}, S.A., Institución de Banca Múltiple", "culiacan"),
        ("Financiera {b} {r}, S.A. de C.V., SOFOM, E.R.", "chihuahua"),
        ("Financiera {b}, S.A. de C.V., SOFOM, E.R.", "tijuana"),
        ("Caja Popular {b} de {c}, S.C. de A.P. de R.L. de C.V.", "queretaro"),
        ("Caja Popular {b} de {c}, S.C. de A.P. de R.L. de C.V.", "morelia"),
        ("Caja Popular {b} de {c}, S.C. de A.P. de R.L. de C.V.", "oaxaca"),
        ("Caja Popular {b} de {c}, S.C. de A.P. de R.L. de C.V.", "aguascalientes"),
        ("Banco {b}, S.A., Institución de Banca Múltiple", "puebla"),
    ],
    "valores": [
        ("Casa de Bolsa {b}, S.A. de C.V.", "cdmx"),
        ("Casa de Bolsa {b}, S.A. de C.V.", "cdmx"),
        ("Casa de Bolsa {b} {r}, S.A. de C.V.", "san-pedro"),
        ("Operadora de Fondos {b}, S.A. de C.V., Sociedad Operadora de Fondos de Inversión", "cdmx"),
        ("Operadora de Fondos {b} {r}, S.A. de C.V., Sociedad Operadora de Fondos de Inversión", "guadalajara"),
        ("Custodia y Liquidación de Valores {b}, S.A. de C.V.", "cdmx"),
    ],
    "seguros": [
        ("Seguros {b}, S.A. de C.V.", "cdmx"),
        ("Seguros {b} {r}, S.A. de C.V.", "monterrey"),
        ("{b} Seguros de Vida, S.A. de C.V.", "cdmx"),
        ("Seguros {b} {r}, S.A. de C.V.", "guadalajara"),
        ("Afore {b}, S.A. de C.V.", "cdmx"),
        ("Afore {b}, S.A. de C.V.", "cdmx"),
        ("Fianzas {b}, S.A.", "cdmx"),
        ("Seguros Agrícolas {b} {r}, S.A. de C.V.", "culiacan"),
        ("Pensiones {b}, S.A. de C.V.", "puebla"),
        ("Seguros {b} {r}, S.A. de C.V.", "merida"),
    ],
    "pagos": [
        ("{b} Pagos Electrónicos, S.A.P.I. de C.V., Institución de Fondos de Pago Electrónico", "cdmx"),
        ("{b} Pagos Electrónicos, S.A.P.I. de C.V., Institución de Fondos de Pago Electrónico", "guadalajara"),
        ("{b} Pagos Electrónicos, S.A.P.I. de C.V., Institución de Fondos de Pago Electrónico", "monterrey"),
        ("Procesadora de Pagos {b}, S.A. de C.V.", "cdmx"),
        ("Procesadora de Pagos {b}, S.A. de C.V.", "queretaro"),
        ("Red de Cajeros {b}, S.A. de C.V.", "cdmx"),
        ("Cámara de Compensación {b}, S.A. de C.V.", "cdmx"),
        ("Remesas {b} {r}, S.A. de C.V.", "tijuana"),
        ("Remesas {b} {r}, S.A. de C.V.", "juarez"),
        ("Terminales de Pago {b}, S.A.P.I. de C.V.", "zapopan"),
    ],
    "electricidad": [
        ("Energía Limpia {r}, S.A. de C.V.", "queretaro"),
        ("Parque Eólico {b}, S.A.P.I. de C.V.", "juchitan"),
        ("Parque Eólico {b}, S.A.P.I. de C.V.", "reynosa"),
        ("Parque Eólico {b}, S.A.P.I. de C.V.", "progreso"),
        ("Central Fotovoltaica {b}, S.A. de C.V.", "hermosillo"),
        ("Central Fotovoltaica {b}, S.A. de C.V.", "chihuahua"),
        ("Central Fotovoltaica {b}, S.A. de C.V.", "torreon"),
        ("Central Fotovoltaica {b}, S.A. de C.V.", "la-paz"),
        ("Generadora {b} de Ciclo Combinado, S. de R.L. de C.V.", "monterrey"),
        ("Generadora {b} de Ciclo Combinado, S. de R.L. de C.V.", "mexicali"),
        ("Transmisión Eléctrica {b} {r}, S.A. de C.V.", "saltillo"),
        ("Geotérmica {b}, S.A. de C.V.", "morelia"),
    ],
    "hidrocarburos": [
        ("Exploración y Producción {b}, S.A.P.I. de C.V.", "villahermosa"),
        ("Exploración y Producción {b}, S.A.P.I. de C.V.", "ciudad-del-carmen"),
        ("Servicios Petroleros {b}, S.A. de C.V.", "ciudad-del-carmen"),
        ("Gasoductos {b} {r}, S. de R.L. de C.V.", "monterrey"),
        ("Gasoductos {b} {r}, S. de R.L. de C.V.", "hermosillo"),
        ("Gasoductos {b} {r}, S. de R.L. de C.V.", "chihuahua"),
        ("Terminal de Almacenamiento {b}, S.A. de C.V.", "tuxpan"),
        ("Terminal de Almacenamiento {b}, S.A. de C.V.", "altamira"),
        ("Terminal de Almacenamiento {b}, S.A. de C.V.", "manzanillo"),
        ("Distribuidora de Gas Natural {b} de {c}, S.A. de C.V.", "mexicali"),
        ("Distribuidora de Gas Natural {b} de {c}, S.A. de C.V.", "merida"),
        ("Combustibles {b} {r}, S.A. de C.V.", "nuevo-laredo"),
    ],
    "redes": [
        ("Telecomunicaciones {b}, S.A. de C.V.", "cdmx"),
        ("Telecomunicaciones {b} {r}, S.A. de C.V.", "monterrey"),
        ("Red de Fibra Óptica {b}, S.A.P.I. de C.V.", "cdmx"),
        ("Red de Fibra Óptica {b} {r}, S.A.P.I. de C.V.", "guadalajara"),
        ("Cable {b} {r}, S.A. de C.V.", "hermosillo"),
        ("Cable {b} {r}, S.A. de C.V.", "merida"),
        ("Cable {b} {r}, S.A. de C.V.", "mazatlan"),
        ("Torres y Sitios {b}, S.A. de C.V.", "cdmx"),
        ("{b} Móvil, S.A. de C.V.", "cdmx"),
        ("Enlaces Satelitales {b}, S.A. de C.V.", "cdmx"),
    ],
    "internet": [
        ("Punto de Intercambio de Tráfico {b}, A.C.", "cdmx"),
        ("Punto de Intercambio de Tráfico {b} {r}, A.C.", "queretaro"),
        ("Registrador de Dominios {b}, S.A. de C.V.", "monterrey"),
        ("Servicios DNS {b}, S.A. de C.V.", "cdmx"),
        ("Proveedor de Internet {b}, S.A. de C.V.", "puebla"),
        ("Proveedor de Internet {b} {r}, S.A. de C.V.", "cancun"),
        ("Proveedor de Internet {b} {r}, S.A. de C.V.", "culiacan"),
        ("Red Académica {b}, A.C.", "guadalajara"),
    ],
    "nube": [
        ("Centro de Datos {b} Querétaro, S. de R.L. de C.V.", "queretaro"),
        ("Centro de Datos {b} Querétaro, S. de R.L. de C.V.", "queretaro"),
        ("Centro de Datos {b} Querétaro, S. de R.L. de C.V.", "queretaro"),
        ("Centro de Datos {b} Monterrey, S. de R.L. de C.V.", "apodaca"),
        ("Centro de Datos {b} Guadalajara, S. de R.L. de C.V.", "zapopan"),
        ("Centro de Datos {b} Tijuana, S. de R.L. de C.V.", "tijuana"),
        ("{b} Nube Empresarial, S.A. de C.V.", "cdmx"),
        ("{b} Nube Empresarial, S.A. de C.V.", "monterrey"),
        ("Hospedaje y Colocación {b} {r}, S.A. de C.V.", "merida"),
    ],
    "aereo": [
        ("Aeropuerto Internacional de Tijuana (operador demo)", "tijuana"),
        ("Aeropuerto Internacional de Hermosillo (operador demo)", "hermosillo"),
        ("Aeropuerto Internacional de Chihuahua (operador demo)", "chihuahua"),
        ("Aeropuerto Internacional de Cancún (operador demo)", "cancun"),
        ("Aeropuerto Internacional de Mazatlán (operador demo)", "mazatlan"),
        ("Aeropuerto Internacional de Mérida (operador demo)", "merida"),
        ("Aeropuerto Internacional de Monterrey (operador demo)", "apodaca"),
        ("Aeropuerto Internacional de Guadalajara (operador demo)", "guadalajara"),
        ("Aeropuerto Internacional de Los Cabos (operador demo)", "los-cabos"),
        ("Aeropuerto Internacional de Culiacán (operador demo)", "culiacan"),
        ("Aerolínea {b}, S.A. de C.V.", "cdmx"),
        ("Carga Aérea {b}, S.A. de C.V.", "guadalajara"),
    ],
    "ferroviario": [
        ("Ferrocarril {b} {r}, S.A. de C.V.", "chihuahua"),
        ("Ferrocarril {b} {r}, S.A. de C.V.", "monterrey"),
        ("Ferrocarril {b} {r}, S.A. de C.V.", "veracruz"),
        ("Terminal Intermodal {b}, S.A. de C.V.", "slp"),
        ("Terminal Intermodal {b}, S.A. de C.V.", "nuevo-laredo"),
        ("Terminal Intermodal {b}, S.A. de C.V.", "silao"),
    ],
    "maritimo": [
        ("Terminal Portuaria {b} de {c}, S.A. de C.V.", "manzanillo"),
        ("Terminal Portuaria {b} de {c}, S.A. de C.V.", "lazaro-cardenas"),
        ("Terminal Portuaria {b} de {c}, S.A. de C.V.", "veracruz"),
        ("Terminal Portuaria {b} de {c}, S.A. de C.V.", "altamira"),
        ("Terminal Portuaria {b} de {c}, S.A. de C.V.", "ensenada"),
        ("Terminal Portuaria {b} de {c}, S.A. de C.V.", "guaymas"),
        ("Terminal Portuaria {b} de {c}, S.A. de C.V.", "progreso"),
        ("Terminal de Contenedores {b}, S.A. de C.V.", "coatzacoalcos"),
        ("Naviera {b} {r}, S.A. de C.V.", "salina-cruz"),
        ("Remolcadores {b}, S.A. de C.V.", "mazatlan"),
    ],
    "carretero": [
        ("Concesionaria Autopista {b}, S.A. de C.V.", "queretaro"),
        ("Concesionaria Autopista {b}, S.A. de C.V.", "toluca"),
        ("Autotransportes de Carga {b}, S.A. de C.V.", "nuevo-laredo"),
        ("Autotransportes de Carga {b} {r}, S.A. de C.V.", "saltillo"),
        ("Logística {b} {r}, S.A. de C.V.", "juarez"),
        ("Logística {b} {r}, S.A. de C.V.", "irapuato"),
        ("Autobuses {b} de Pasajeros, S.A. de C.V.", "puebla"),
        ("Autobuses {b} de Pasajeros, S.A. de C.V.", "culiacan"),
    ],
    "potable": [
        ("Hidrosistemas {b} de {c}, S.A. de C.V.", "aguascalientes"),
        ("Hidrosistemas {b} de {c}, S.A. de C.V.", "saltillo"),
        ("Hidrosistemas {b} de {c}, S.A. de C.V.", "cancun"),
        ("Acueducto {b}, S.A.P.I. de C.V.", "queretaro"),
        ("Acueducto {b}, S.A.P.I. de C.V.", "hermosillo"),
        ("Potabilizadora {b}, S.A. de C.V.", "monterrey"),
        ("Potabilizadora {b}, S.A. de C.V.", "puebla"),
    ],
    "residual": [
        ("Planta de Tratamiento de Aguas Residuales {b}, S.A. de C.V.", "tula"),
        ("Planta de Tratamiento de Aguas Residuales {b}, S.A. de C.V.", "zapopan"),
        ("Saneamiento {b} {r}, S.A. de C.V.", "leon"),
        ("Saneamiento {b} {r}, S.A. de C.V.", "juarez"),
    ],
    "hospitales": [
        ("Hospital {b} de la Ciudad de México, S.A. de C.V.", "cdmx"),
        ("Hospital {b} de {c}, S.A. de C.V.", "monterrey"),
        ("Hospital {b} de {c}, S.A. de C.V.", "guadalajara"),
        ("Hospital {b} de {c}, S.A. de C.V.", "puebla"),
        ("Hospital {b} de {c}, S.A. de C.V.", "tijuana"),
        ("Hospital {b} de {c}, S.A. de C.V.", "merida"),
        ("Centro Médico {b} {r}, S.A. de C.V.", "hermosillo"),
        ("Centro Médico {b} {r}, S.A. de C.V.", "veracruz"),
        ("Red Hospitalaria {b}, S.A.P.I. de C.V.", "cdmx"),
        ("Clínica {b} de {c}, S.C.", "tepic"),
        ("Laboratorio Clínico {b} {r}, S.A. de C.V.", "culiacan"),
    ],
    "farmaceutica": [
        ("Laboratorios {b}, S.A. de C.V.", "cdmx"),
        ("Laboratorios {b}, S.A. de C.V.", "toluca"),
        ("Laboratorios {b} {r}, S.A. de C.V.", "guadalajara"),
        ("Biológicos {b}, S.A.P.I. de C.V.", "cuernavaca"),
        ("Distribuidora Farmacéutica {b}, S.A. de C.V.", "naucalpan"),
        ("Distribuidora Farmacéutica {b} {r}, S.A. de C.V.", "monterrey"),
        ("Farmacéutica {b}, S.A. de C.V.", "puebla"),
        ("Cadena de Frío {b}, S.A. de C.V.", "queretaro"),
    ],
    "alimentos": [
        ("Agroindustrias {b} {r}, S.A. de C.V.", "culiacan"),
        ("Agroindustrias {b} {r}, S.A. de C.V.", "obregon"),
        ("Lácteos {b} de la Laguna, S.A. de C.V.", "gomez-palacio"),
        ("Molinos {b}, S.A. de C.V.", "guadalajara"),
        ("Empacadora {b}, S.A. de C.V.", "leon"),
        ("Granos {b} {r}, S.A. de C.V.", "los-mochis"),
        ("Frigoríficos {b}, S.A. de C.V.", "cuauhtemoc"),
        ("Avícola {b} {r}, S.A. de C.V.", "merida"),
        ("Agroexportadora {b}, S.A. de C.V.", "uruapan"),
    ],
    "manufactura": [
        ("Componentes Automotrices {b}, S.A. de C.V.", "saltillo"),
        ("Aceros {b} {r}, S.A. de C.V.", "monclova"),
        ("Semiconductores {b}, S.A. de C.V.", "guadalajara"),
        ("Electrónica {b} de la Frontera, S.A. de C.V.", "tijuana"),
        ("Electrónica {b} de la Frontera, S.A. de C.V.", "matamoros"),
        ("Química {b} {r}, S.A. de C.V.", "coatzacoalcos"),
    ],
    "educacion": [
        ("Universidad {b} {r}, A.C.", "puebla"),
        ("Universidad {b} {r}, A.C.", "monterrey"),
        ("Centro de Estudios Superiores {b}, S.C.", "mexicali"),
    ],
    "emergencias": [
        ("Servicios Médicos de Emergencia {b}, S.A. de C.V.", "cdmx"),
        ("Ambulancias Aéreas {b}, S.A. de C.V.", "playa-del-carmen"),
    ],
    "seguridad": [
        ("Traslado de Valores {b}, S.A. de C.V.", "cdmx"),
        ("Seguridad Privada {b} {r}, S.A. de C.V.", "chetumal"),
    ],
}

# Names of real companies a fictional name must never contain (a guard, not a complete list).
REAL_NAMES = [
    "banorte", "banamex", "bancomer", "bbva", "santander", "hsbc", "scotiabank", "inbursa",
    "azteca", "banco del bajío", "banbajío", "banregio", "afirme", "mifel", "multiva", "monex", "coppel", "compartamos",
    "telmex", "telcel", "totalplay", "izzi", "megacable", "axtel", "at&t", "kio", "triara",
    "ienova", "iberdrola", "ferromex", "ferrosur", "kansas", "asur", "oma", "gap", "aeroméxico",
    "volaris", "viva aerobus", "lala", "bimbo", "gruma", "femsa", "oxxo", "liverpool", "elektra",
    "prosa", "cecoban", "akky", "nic méxico", "ángeles", "médica sur", "star médica", "sura", "ica", "pinfra", "vitro", "lamosa", "peñoles", "grupo méxico",
    "profuturo", "invercap", "gnp", "qualitas", "mapfre", "cemex", "ternium", "alfa", "mabe",
]

# --------------------------------------------------------------------------------------------
# People (all fictional).
# --------------------------------------------------------------------------------------------
GIVEN_F = [
    "María Fernanda", "Guadalupe", "Ana Karen", "Alejandra", "Verónica", "Daniela", "Mariana",
    "Claudia", "Patricia", "Gabriela", "Adriana", "Rosa María", "Leticia", "Araceli", "Yolanda",
    "Itzel", "Ximena", "Paola", "Lorena", "Brenda", "Karla", "Sofía", "Elizabeth", "Mónica",
    "Beatriz", "Norma", "Rocío", "Silvia", "Diana", "Andrea", "Valeria", "Lucía", "Teresa",
    "Martha", "Irma", "Citlali", "Nayeli", "Maribel", "Miriam", "Esmeralda", "Liliana",
    "Marisol", "Jimena", "Renata", "Regina", "Alma Delia", "Juana", "Erika", "Fabiola", "Ivonne",
]
GIVEN_M = [
    "José Luis", "Juan Carlos", "Luis Fernando", "Miguel Ángel", "Jorge", "Alejandro",
    "Francisco Javier", "Ricardo", "Arturo", "Eduardo", "Roberto", "Sergio", "Héctor", "Raúl",
    "Óscar", "Fernando", "Carlos", "Jesús", "Víctor Manuel", "Rodrigo", "Emiliano", "Diego",
    "Santiago", "Iván", "Gerardo", "Hugo", "Ernesto", "Rubén", "Alfonso", "Mauricio", "Gustavo",
    "Salvador", "Armando", "Enrique", "Israel", "Omar", "Julio César", "Marco Antonio", "Rafael",
    "Andrés", "Octavio", "Joaquín", "Tomás", "Ramiro", "Efraín", "Abraham", "Uriel", "Adrián",
]
SURNAMES = [
    "Hernández", "García", "Martínez", "López", "González", "Pérez", "Rodríguez", "Sánchez",
    "Ramírez", "Cruz", "Flores", "Gómez", "Morales", "Vázquez", "Reyes", "Jiménez", "Torres",
    "Díaz", "Gutiérrez", "Ruiz", "Mendoza", "Aguilar", "Ortiz", "Moreno", "Castillo", "Romero",
    "Álvarez", "Méndez", "Chávez", "Rivera", "Juárez", "Ramos", "Domínguez", "Herrera", "Medina",
    "Castro", "Vargas", "Guzmán", "Velázquez", "Muñoz", "Rojas", "Contreras", "Salazar", "Luna",
    "Ortega", "Santiago", "Guerrero", "Estrada", "Bautista", "Cortés", "Soto", "Alvarado",
    "Espinoza", "Lara", "Ávila", "Ríos", "Cervantes", "Silva", "Delgado", "Vega", "Márquez",
    "Sandoval", "Fuentes", "Carrillo", "León", "Ayala", "Campos", "Solís", "Escobar", "Pacheco",
    "Núñez", "Ibarra", "Zúñiga", "Cárdenas", "Orozco", "Trejo", "Acosta", "Navarro", "Mejía",
    "Peña", "Tapia", "Ochoa", "Barrera", "Cabrera", "Esquivel", "Montes de Oca", "De la Cruz",
    "Zapata", "Rangel", "Olvera", "Arellano", "Galindo", "Ponce", "Nava", "Meza", "Robles",
]
# Regional surnames, mixed in for entities of those states.
SURNAMES_NORTH = ["Garza", "Treviño", "Villarreal", "Elizondo", "Cantú", "Salinas", "Quintanilla",
                  "Leal", "Valenzuela", "Quintero", "Beltrán", "Félix", "Urías", "Gastélum"]
SURNAMES_MAYA = ["Canul", "Pech", "Chan", "May", "Cauich", "Ek", "Dzul", "Uc", "Tun", "Poot",
                 "Cen", "Chi", "Balam", "Cocom", "Xool", "Tzuc", "Yam", "Euán", "Chablé", "Couoh"]
SURNAMES_SOUTH = ["Matus", "Toledo", "Girón", "Antonio", "Vásquez", "Villalobos"]
NORTH_STATES = {"MX-NLE", "MX-COA", "MX-TAM", "MX-SIN", "MX-SON", "MX-CHH", "MX-BCN", "MX-BCS", "MX-DUR"}
MAYA_STATES = {"MX-YUC", "MX-CAM", "MX-ROO"}
SOUTH_STATES = {"MX-OAX", "MX-CHP"}

# Titles: (masculine, feminine).
T_247 = [
    ("Centro de operaciones 24/7", "Centro de operaciones 24/7"),
    ("Jefe de turno, Centro de operaciones de seguridad 24/7", "Jefa de turno, Centro de operaciones de seguridad 24/7"),
    ("Coordinador del Centro de operaciones 24/7 (SOC)", "Coordinadora del Centro de operaciones 24/7 (SOC)"),
]
T_CISO_PUBLIC = [
    ("Responsable de seguridad de la información", "Responsable de seguridad de la información"),
]
T_CISO_STATE = [
    ("Responsable de seguridad de la información", "Responsable de seguridad de la información"),
    ("Director de Seguridad de la Información", "Directora de Seguridad de la Información"),
]
T_CISO_MUNICIPAL = [
    ("Responsable de seguridad de la información", "Responsable de seguridad de la información"),
    ("Director de Tecnologías de la Información", "Directora de Tecnologías de la Información"),
]
T_CISO_FINANCE = [
    ("Oficial en Jefe de Seguridad de la Información (CISO)", "Oficial en Jefe de Seguridad de la Información (CISO)"),
]
T_CISO_PRIVATE = [
    ("Director de Ciberseguridad (CISO)", "Directora de Ciberseguridad (CISO)"),
    ("Gerente de Seguridad de la Información", "Gerente de Seguridad de la Información"),
    ("Responsable de seguridad de la información", "Responsable de seguridad de la información"),
]
T_LIAISON = ("Enlace ante el CSIRT nacional", "Enlace ante el CSIRT nacional")

MAILBOX_247 = ["soc", "csirt", "cert", "guardia.ciber"]
MAILBOX_CISO_PUBLIC = ["seguridad.informacion", "rsi"]
MAILBOX_CISO_PRIVATE = ["ciso", "seguridad.informacion"]
MAILBOX_LIAISON = ["enlace.csirt", "enlace.ciberseguridad"]

FINANCE_SUBSECTORS = {"banca", "valores", "seguros", "pagos"}
SLUG_STOPWORDS = {"de", "del", "la", "las", "los", "el", "y", "operador", "demo", "s", "a", "c", "v"}
KEY_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
LOCAL_RE = re.compile(r"^[a-z0-9]+([.-][a-z0-9]+)*$")


def fold(text):
    """ASCII-fold: 'Núñez' -> 'Nunez'."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def slug(text, max_words=None):
    words = re.findall(r"[a-z0-9]+", fold(text).lower())
    words = [w for w in words if w not in SLUG_STOPWORDS]
    if max_words:
        words = words[:max_words]
    return "-".join(words)


class Generator:
    def __init__(self, shared):
        self.rng = random.Random(SEED)
        states_doc = json.loads((shared / "states.json").read_text(encoding="utf-8"))
        inst_doc = json.loads((shared / "institutions-and-sectors.json").read_text(encoding="utf-8"))
        self.states = states_doc["states"]
        self.state_by_iso = {s["iso"]: s for s in self.states}
        self.sectors = inst_doc["sectors"]
        self.institutions = inst_doc["federal_institutions"]
        self.entities = []
        self.keys = set()
        self.user_emails = set()
        self.used_people = set()
        self.entity_surnames = set()  # first surnames already drawn for the current entity

    # -- helpers ------------------------------------------------------------------------------
    def tz_for(self, city_id):
        _, iso, _, override = CITIES[city_id]
        return override or self.state_by_iso[iso]["tz"]

    def phone(self, city_id):
        area = CITIES[city_id][2]
        r = self.rng
        if len(area) == 2:
            return "+52 %s %d%03d %04d" % (area, r.randint(2, 9), r.randint(0, 999), r.randint(0, 9999))
        return "+52 %s %d%02d %04d" % (area, r.randint(2, 9), r.randint(0, 99), r.randint(0, 9999))

    def person(self, iso):
        """A fictional person: (given names, first surname, second surname, feminine?)."""
        r = self.rng
        for _ in range(100):
            fem = r.random() < 0.45
            given = r.choice(GIVEN_F if fem else GIVEN_M)
            pool = SURNAMES
            if iso in NORTH_STATES and r.random() < 0.4:
                pool = SURNAMES_NORTH
            elif iso in MAYA_STATES and r.random() < 0.35:
                pool = SURNAMES_MAYA
            elif iso in SOUTH_STATES and r.random() < 0.3:
                pool = SURNAMES_SOUTH
            first = r.choice(pool)
            second = r.choice(SURNAMES_MAYA if iso in MAYA_STATES and r.random() < 0.2 else SURNAMES)
            if first == second or first in self.entity_surnames:
                continue
            full = "%s %s %s" % (given, first, second)
            if full in self.used_people:
                continue
            self.used_people.add(full)
            self.entity_surnames.add(first)
            return given, first, second, fem
        raise RuntimeError("could not draw a new person")

    def user_email(self, given, first, key):
        base = "%s.%s" % (slug(given.split()[0]).replace("-", ""), fold(first).lower().replace(" ", ""))
        local, n = base, 1
        while "%s@%s.example" % (local, key) in self.user_emails:
            n += 1
            local = "%s%d" % (base, n)
        email = "%s@%s.example" % (local, key)
        self.user_emails.add(email)
        return email

    def add(self, key, name, acronym, kind, sector, city_id, parent, national=False, iso=None):
        assert key not in self.keys, key
        self.keys.add(key)
        iso = iso or CITIES[city_id][1]
        tz = self.state_by_iso[iso]["tz"] if kind == "state" else self.tz_for(city_id)
        entity = {
            "key": key,
            "name": name,
            "acronym": acronym,
            "kind": kind,
            "sector": sector,
            "state": iso,
            "time_zone": tz,
            "parent": parent,
            "national_authority": national,
            "contacts": [],
            "users": [],
        }
        entity["_city"] = city_id
        entity["_sub"] = sector
        self.entities.append(entity)
        return entity

    # -- blocks -------------------------------------------------------------------------------
    def federal(self):
        by_acr = {i["acronym"]: i for i in self.institutions}
        assert len(by_acr) == len(self.institutions), "duplicate acronyms in the shared file"
        # File order, except that a parent must precede its children (the loader inserts in order
        # and entities.parent_id is a foreign key).
        order, placed = [], set()

        def place(acr):
            if acr in placed:
                return
            parent = FEDERAL_PARENT.get(acr)
            if parent:
                place(parent)
            placed.add(acr)
            order.append(acr)

        for inst in self.institutions:
            place(inst["acronym"])
        for acr in order:
            inst = by_acr[acr]
            kind = "autonomous" if inst["kind"] in AUTONOMOUS_FILE_KINDS else "federal"
            sector = inst["sector"]
            if acr in FEDERAL_SUBSECTOR:
                sector = FEDERAL_SUBSECTOR[acr]
            elif sector == "gobierno":
                sector = "autonomo" if kind == "autonomous" else "federal"
            city = FEDERAL_CITY.get(acr, "cdmx")
            parent = FEDERAL_PARENT.get(acr)
            self.add(acr.lower(), inst["name"], acr, kind, sector, city,
                     parent.lower() if parent else None, national=(acr == NATIONAL_AUTHORITY))

    def autonomous(self):
        for acr, name, sector, city in EXTRA_AUTONOMOUS:
            self.add(acr.lower(), name, acr, "autonomous", sector, city, None)

    def state_governments(self):
        for s in self.states:
            name = ("Gobierno de la Ciudad de México" if s["iso"] == "MX-CMX"
                    else "Gobierno del Estado de %s" % s["name"])
            key = "gob-" + s["iso"][3:].lower()
            self.add(key, name, None, "state", "estatal", CAPITALS[s["iso"]], None, iso=s["iso"])

    def municipalities(self):
        for key, city_id, muni, label in MUNICIPALITIES:
            iso = CITIES[city_id][1]
            name = "Ayuntamiento de %s" % muni
            if label:
                name += " (%s)" % label
            self.add(key, name, None, "municipal", "municipal", city_id, "gob-" + iso[3:].lower())

    def private(self):
        r = self.rng
        brands = []
        uses = Counter()
        names = set()
        for sub, items in PRIVATE.items():
            used_here = set()
            for template, city_id in items:
                brand = None
                if "{b}" in template:
                    for _ in range(1000):
                        if not brands:
                            brands = [b for b in BRANDS if uses[b] < 2]
                            r.shuffle(brands)
                        cand = brands.pop()
                        if cand not in used_here and uses[cand] < 2:
                            brand = cand
                            break
                    assert brand, "brand pool exhausted"
                    uses[brand] += 1
                    used_here.add(brand)
                city, iso = CITIES[city_id][0], CITIES[city_id][1]
                name = template.format(b=brand, r=REGION_OF[iso], c=city)
                assert name not in names, name
                names.add(name)
                short = name.split(",")[0]
                key = slug(short)
                if len(key) > 40 and brand:
                    # Keep the first word, the brand and what follows it: "terminal-nogal-lazaro-cardenas".
                    words, bw = key.split("-"), slug(brand).split("-")
                    at = next(i for i in range(len(words)) if words[i:i + len(bw)] == bw)
                    key = "-".join(words[:1] + words[at:])
                    if len(key) > 40:
                        key = "-".join(words[:1] + bw)
                base, n = key, 1
                while key in self.keys:
                    n += 1
                    key = "%s-%d" % (base, n)
                self.add(key, name, None, "private", sub, city_id, None)

    # -- people -------------------------------------------------------------------------------
    def people(self):
        r = self.rng
        for e in self.entities:
            kind, key, city, iso = e["kind"], e["key"], e["_city"], e["state"]
            national = e["national_authority"]
            self.entity_surnames = set()
            if kind in ("federal", "autonomous", "state"):
                n_contacts = 3
            elif kind == "municipal":
                n_contacts = r.choice((2, 2, 3))
            else:
                n_contacts = r.choices((1, 2, 3), weights=(20, 45, 35))[0]
            contacts = []
            mailboxes = set()

            def mailbox(options):
                opts = [o for o in options if o not in mailboxes]
                m = r.choice(opts)
                mailboxes.add(m)
                return "%s@%s.example" % (m, key)

            # 1. The 24/7 point of contact (always first).
            g, s1, s2, fem = self.person(iso)
            contacts.append({
                "name": "%s %s %s" % (g, s1, s2),
                "title": r.choice(T_247)[fem],
                "email": mailbox(MAILBOX_247),
                "phone": self.phone(city),
                "is_24_7": True,
                "tlp": "GREEN" if kind == "federal" else "AMBER",
            })
            ciso = None
            if n_contacts >= 2:
                if kind in ("federal", "autonomous"):
                    titles, boxes = T_CISO_PUBLIC, MAILBOX_CISO_PUBLIC
                elif kind == "state":
                    titles, boxes = T_CISO_STATE, MAILBOX_CISO_PUBLIC
                elif kind == "municipal":
                    titles, boxes = T_CISO_MUNICIPAL, MAILBOX_CISO_PUBLIC
                elif e["_sub"] in FINANCE_SUBSECTORS:
                    titles, boxes = T_CISO_FINANCE, MAILBOX_CISO_PRIVATE
                else:
                    titles, boxes = T_CISO_PRIVATE, MAILBOX_CISO_PRIVATE
                ciso = self.person(iso)
                g, s1, s2, fem = ciso
                strict = national or e["sector"] == "seguridad" or r.random() < 0.04
                contacts.append({
                    "name": "%s %s %s" % (g, s1, s2),
                    "title": r.choice(titles)[fem],
                    "email": mailbox(boxes),
                    "phone": self.phone(city),
                    "is_24_7": False,
                    "tlp": "AMBER+STRICT" if strict else "AMBER",
                })
            if n_contacts >= 3:
                g, s1, s2, fem = self.person(iso)
                contacts.append({
                    "name": "%s %s %s" % (g, s1, s2),
                    "title": T_LIAISON[fem],
                    "email": mailbox(MAILBOX_LIAISON),
                    "phone": self.phone(city),
                    "is_24_7": False,
                    "tlp": "AMBER",
                })
            e["contacts"] = contacts

            if national:
                continue  # the loader creates the national authority's users
            officer = ciso or self.person(iso)
            users = [{
                "name": "%s %s %s" % officer[:3],
                "email": self.user_email(officer[0], officer[1], key),
                "role": "security_officer",
            }]
            if r.random() < 0.85:
                rep = self.person(iso)
                users.append({
                    "name": "%s %s %s" % rep[:3],
                    "email": self.user_email(rep[0], rep[1], key),
                    "role": "reporter",
                })
            e["users"] = users

    # -- output -------------------------------------------------------------------------------
    def build(self):
        self.federal()
        self.autonomous()
        self.state_governments()
        self.municipalities()
        self.private()
        self.people()
        for e in self.entities:
            del e["_city"], e["_sub"]
        sectors = [{
            "id": s["id"], "es": s["es"], "en": s["en"],
            "subsectors": [{"id": x["id"], "es": x["es"], "en": x["en"]} for x in s["subsectors"]],
        } for s in self.sectors]
        states = [{"iso": s["iso"], "name": s["name"], "tz": s["tz"]} for s in self.states]
        return {"note": NOTE, "sectors": sectors, "states": states, "entities": self.entities}


def check(data, shared_institutions, shared_states):
    """Assert the contract's invariants."""
    sector_ids = []
    for s in data["sectors"]:
        sector_ids.append(s["id"])
        sector_ids.extend(x["id"] for x in s["subsectors"])
    assert len(sector_ids) == len(set(sector_ids)), "sector/subsector ids must be unique"
    sector_ids = set(sector_ids)
    tz_of = {s["iso"]: s["tz"] for s in data["states"]}
    assert len(tz_of) == 32 == len(shared_states)

    keys = [e["key"] for e in data["entities"]]
    assert len(keys) == len(set(keys)), "duplicate entity keys"
    names = [e["name"] for e in data["entities"]]
    assert len(names) == len(set(names)), "duplicate entity names"
    fed_names = {i["name"] for i in shared_institutions}
    assert fed_names <= set(names), "a shared federal institution is missing"

    seen = set()
    user_emails = set()
    national = [e["key"] for e in data["entities"] if e["national_authority"]]
    assert len(national) == 1, national
    kind_order = []
    for e in data["entities"]:
        k = e["key"]
        assert KEY_RE.match(k), k
        assert e["kind"] in KINDS, k
        assert e["sector"] in sector_ids, k
        assert e["state"] in tz_of, k
        if e["kind"] == "state":
            assert e["time_zone"] == tz_of[e["state"]], k
        else:
            assert e["time_zone"] == tz_of[e["state"]] or e["time_zone"] in BORDER_ZONES, k
        if e["parent"] is not None:
            assert e["parent"] in seen, "%s: parent %s must come earlier" % (k, e["parent"])
        if e["kind"] == "municipal":
            assert e["parent"] == "gob-" + e["state"][3:].lower(), k
        if e["kind"] == "private":
            words = " %s " % " ".join(re.findall(r"[a-z0-9&]+", fold(e["name"]).lower()))
            for real in REAL_NAMES:
                needle = " %s " % " ".join(re.findall(r"[a-z0-9&]+", fold(real).lower()))
                assert needle not in words, "%s looks like a real company (%s)" % (e["name"], real)
        assert e["acronym"] is None or e["acronym"].strip(), k
        seen.add(k)
        if not kind_order or kind_order[-1] != e["kind"]:
            kind_order.append(e["kind"])

        assert 1 <= len(e["contacts"]) <= 3, k
        assert any(c["is_24_7"] for c in e["contacts"]), k
        domain = "@%s.example" % k
        cmails = [c["email"] for c in e["contacts"]]
        assert len(cmails) == len(set(cmails)), k
        for c in e["contacts"]:
            assert c["tlp"] in TLPS, k
            assert c["email"].endswith(domain) and LOCAL_RE.match(c["email"][: -len(domain)]), c
            assert re.match(r"^\+52 (\d{2} \d{4}|\d{3} \d{3}) \d{4}$", c["phone"]), c
            assert len(c["name"].split()) >= 3 and c["title"], c
        if e["national_authority"]:
            assert e["users"] == [], k
        else:
            assert 1 <= len(e["users"]) <= 2, k
            assert e["users"][0]["role"] == "security_officer", k
            for u in e["users"]:
                assert u["role"] in ROLES, u
                assert u["email"].endswith(domain) and LOCAL_RE.match(u["email"][: -len(domain)]), u
                assert u["email"] not in user_emails, u
                user_emails.add(u["email"])
            roles = [u["role"] for u in e["users"]]
            assert roles.count("security_officer") == 1, k

    # Blocks in the agreed order (the shared file's autonomous bodies stay in the first block).
    assert kind_order[-3:] == ["state", "municipal", "private"], kind_order

    # Required time zones among private operators.
    private_zones = {e["time_zone"] for e in data["entities"] if e["kind"] == "private"}
    for tz in ("America/Tijuana", "America/Hermosillo", "America/Chihuahua", "America/Cancun",
               "America/Mazatlan", "America/Merida", "America/Monterrey", "America/Mexico_City"):
        assert tz in private_zones, tz

    # Text hygiene: NFC, no mojibake, no control characters.
    def strings(x):
        if isinstance(x, str):
            yield x
        elif isinstance(x, dict):
            for v in x.values():
                yield from strings(v)
        elif isinstance(x, list):
            for v in x:
                yield from strings(v)

    for s in strings(data):
        assert unicodedata.normalize("NFC", s) == s, s
        assert "Ã" not in s and "Â" not in s and "\ufffd" not in s, s
        assert not any(ord(ch) < 32 for ch in s), s


def main():
    shared = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SHARED
    gen = Generator(shared)
    data = gen.build()
    check(data, gen.institutions, gen.states)
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text, encoding="utf-8")

    ents = data["entities"]
    kinds = Counter(e["kind"] for e in ents)
    print("wrote %s" % OUTPUT.relative_to(REPO_ROOT))
    print("sectors: %d (+%d subsectors), states: %d, entities: %d"
          % (len(data["sectors"]), sum(len(s["subsectors"]) for s in data["sectors"]),
             len(data["states"]), len(ents)))
    for k in KINDS:
        print("  %-10s %d" % (k, kinds[k]))
    print("contacts: %d, users: %d" % (sum(len(e["contacts"]) for e in ents),
                                        sum(len(e["users"]) for e in ents)))
    print("tlp: %s" % dict(sorted(Counter(c["tlp"] for e in ents for c in e["contacts"]).items())))
    print("national authority: %s" % next(e["key"] for e in ents if e["national_authority"]))
    print("time zones: %s" % ", ".join(sorted({e["time_zone"] for e in ents})))


if __name__ == "__main__":
    main()
