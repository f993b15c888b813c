-- TAXII pages walk a collection's incidents in (updated_at, id) order from a cursor: one range of
-- this index per page, whatever the collection's size. An entity reading AMBER walks its own incidents.
CREATE INDEX incidents_taxii ON incidents (tlp, updated_at, id);
CREATE INDEX incidents_taxii_entity ON incidents (entity_id, tlp, updated_at, id);
-- Whether an earlier incident of a collection already carried an observable's STIX object.
CREATE INDEX observables_kind_value ON observables (kind, value);
