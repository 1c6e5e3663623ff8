-- The free services given at the window (photos, copies, prints), each valued at the market
-- price in force that day at that office: kept with the record, so a later price change does not
-- rewrite what was saved. Whom it was for is kept masked (a name and a masked document number).
CREATE TABLE free_services (
    id TEXT PRIMARY KEY NOT NULL,
    office TEXT NOT NULL,
    service TEXT NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity >= 1),
    unit_price_fen BIGINT NOT NULL CHECK (unit_price_fen >= 0),
    price_from DATE NOT NULL,
    day DATE NOT NULL,
    recipient TEXT,
    enterprise TEXT,
    application_id TEXT REFERENCES applications (id),
    permit_number TEXT REFERENCES permits (number),
    note TEXT,
    given_by TEXT NOT NULL REFERENCES officers (id),
    given_at TIMESTAMP NOT NULL
);
CREATE INDEX free_services_office_day ON free_services (office, day);
